import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { AdminAnswer, AdminEndpoint } from '../admin-server.js';
import type { DashboardSampler } from './dashboard-snapshot.js';

/** Path of the dashboard page on the admin listener. */
export const DASHBOARD_PATH = '/ui';
/** Path of the JSON the page polls (needs the admin token when one is set). */
export const SNAPSHOT_PATH = '/ui/api/snapshot';
/** Path of the open JSON telling the page whether it needs a token (`{ tokenRequired }`). */
export const SESSION_PATH = '/ui/api/session';

/**
 * Content-Security-Policy of the page and its assets: everything from the
 * admin listener itself, no inline script or style, no framing. (uPlot sets
 * element styles through the CSSOM, which `style-src` does not restrict.)
 */
export const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
  + "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const STATIC_HEADERS = {
  'content-security-policy': DASHBOARD_CSP,
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // why: small files, but a gateway upgrade must never leave an old script talking to a new API.
  'cache-control': 'no-cache',
};

/** One static file: where it is read from and its content type. */
interface StaticFile {
  readonly path: string;
  readonly file: string;
  readonly contentType: string;
}

function staticFiles(): StaticFile[] {
  const own = (name: string): string => fileURLToPath(new URL(`./static/${name}`, import.meta.url));
  // uPlot comes from node_modules (a dependency): no CDN, the page works offline.
  const require = createRequire(import.meta.url);
  const html = { path: DASHBOARD_PATH, file: own('index.html'), contentType: 'text/html; charset=utf-8' };
  return [
    html,
    { ...html, path: `${DASHBOARD_PATH}/` },
    { path: '/ui/assets/dashboard.js', file: own('dashboard.js'), contentType: 'text/javascript; charset=utf-8' },
    { path: '/ui/assets/dashboard-charts.js', file: own('dashboard-charts.js'), contentType: 'text/javascript; charset=utf-8' },
    { path: '/ui/assets/dashboard.css', file: own('dashboard.css'), contentType: 'text/css; charset=utf-8' },
    { path: '/ui/assets/uPlot.iife.min.js', file: require.resolve('uplot/dist/uPlot.iife.min.js'), contentType: 'text/javascript; charset=utf-8' },
    { path: '/ui/assets/uPlot.min.css', file: require.resolve('uplot/dist/uPlot.min.css'), contentType: 'text/css; charset=utf-8' },
  ];
}

/**
 * The dashboard's admin endpoints: the page and its assets (read once, here;
 * public, they hold no data), whether a token is needed (`tokenRequired`,
 * read per request), and the snapshot JSON from `sampler`.
 */
export function dashboardEndpoints(sampler: DashboardSampler, tokenRequired: () => boolean): AdminEndpoint[] {
  const endpoints: AdminEndpoint[] = staticFiles().map((f) => {
    const answer: AdminAnswer = { status: 200, body: readFileSync(f.file), contentType: f.contentType, headers: STATIC_HEADERS };
    return { method: 'GET', path: f.path, handle: () => answer };
  });
  endpoints.push({
    method: 'GET',
    path: SESSION_PATH,
    handle: () => ({ status: 200, body: { tokenRequired: tokenRequired() } }),
  }, {
    method: 'GET',
    path: SNAPSHOT_PATH,
    async handle() {
      return { status: 200, body: await sampler.snapshot() };
    },
  });
  return endpoints;
}
