/**
 * The route table and lookup mix of native-bench/router-bench.ts, reproduced
 * here because that file runs its benchmark at import time and exports
 * nothing. Same resources, same shapes, same seeded lookup generator (seed 42),
 * so numbers are comparable with results/router-bench.md.
 */
import FindMyWay from 'find-my-way';
import type { RouteConfig } from '../../src/config/types.js';
import { mulberry32 } from '../../src/lib/mulberry32.js';
import { compileRouter, type Router } from '../../src/router/index.js';
import { makeRoute } from '../../src/router/router-cases.js';

const RESOURCES = [
  'users', 'orgs', 'teams', 'projects', 'invoices', 'orders', 'products', 'carts', 'payments', 'refunds',
  'customers', 'subscriptions', 'plans', 'coupons', 'webhooks', 'events', 'files', 'folders', 'comments', 'tags',
  'shipments',
];
const SUBS = ['items', 'history'];

/** One route of the table. */
export interface RouteDef {
  method: string;
  path: string;
}

/** Which kind of path a lookup exercises. */
export type LookupKind = 'static' | 'param' | 'wildcard' | 'miss';

/** One request (method + path) to look up. */
export interface RouteLookup {
  method: string;
  path: string;
  kind: LookupKind;
}

/** ~300 REST routes shaped like a real public API (router-bench's table). */
export function routeDefs(): RouteDef[] {
  const defs: RouteDef[] = [
    { method: 'GET', path: '/v1/health' },
    { method: 'GET', path: '/v1/status' },
    { method: 'GET', path: '/v1/users/me' },
    { method: 'GET', path: '/v1/users/me/settings' },
    { method: 'GET', path: '/static/*' },
    { method: 'GET', path: '/docs/*' },
    { method: 'GET', path: '/v1/orgs/:org/repos/:repo/issues/:n' },
    { method: 'PATCH', path: '/v1/orgs/:org/repos/:repo/issues/:n' },
    { method: 'GET', path: '/v1/orgs/:org/repos/:repo/issues/:n/comments' },
    { method: 'GET', path: '/v1/orgs/:org/repos/:repo/pulls/:n/files' },
    { method: 'GET', path: '/v1/orgs/:org/repos/:repo/branches/:branch' },
  ];
  for (const r of RESOURCES) {
    defs.push({ method: 'GET', path: `/v1/${r}` }, { method: 'POST', path: `/v1/${r}` });
    for (const m of ['GET', 'PUT', 'PATCH', 'DELETE']) defs.push({ method: m, path: `/v1/${r}/:id` });
    for (const s of SUBS) {
      defs.push({ method: 'GET', path: `/v1/${r}/:id/${s}` }, { method: 'POST', path: `/v1/${r}/:id/${s}` });
      defs.push({ method: 'GET', path: `/v1/${r}/:id/${s}/:subId` }, { method: 'DELETE', path: `/v1/${r}/:id/${s}/:subId` });
    }
  }
  return defs;
}

/**
 * `count` shuffled lookups, ~15% static, ~60% param, ~10% wildcard, ~15%
 * miss (router-bench's mix). Paths are flat strings.
 */
export function routeLookups(count: number, seed = 42): RouteLookup[] {
  const rnd = mulberry32(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const id = (): string => String(1000 + Math.floor(rnd() * 90000));
  const out: RouteLookup[] = [];
  for (let i = 0; i < count; i++) {
    const x = rnd();
    const r = pick(RESOURCES);
    if (x < 0.15) out.push({ method: 'GET', path: pick(['/v1/health', '/v1/status', '/v1/users/me', `/v1/${r}`]), kind: 'static' });
    else if (x < 0.45) out.push({ method: pick(['GET', 'GET', 'PUT', 'DELETE']), path: `/v1/${r}/${id()}`, kind: 'param' });
    else if (x < 0.65) out.push({ method: 'GET', path: `/v1/${r}/${id()}/${pick(SUBS)}/${id()}`, kind: 'param' });
    else if (x < 0.75) out.push({ method: 'GET', path: `/v1/orgs/acme${id()}/repos/web/issues/${id()}`, kind: 'param' });
    else if (x < 0.85) out.push({ method: 'GET', path: pick(['/static/js/app.js', '/static/css/site.css', '/docs/guide/intro', '/static/img/logo.png']), kind: 'wildcard' });
    else out.push({ method: 'GET', path: pick([`/v2/${r}/${id()}`, `/v1/unknown/${id()}`, '/favicon.ico', `/v1/${r}/${id()}/nope`]), kind: 'miss' });
  }
  // why: request paths arrive as fresh flat strings (uWS copies them out of
  // the socket buffer); template-literal cons strings would skew both sides.
  return out.map((l) => ({ ...l, path: Buffer.from(l.path, 'latin1').toString('latin1') }));
}

/** find-my-way's router instance type. */
export type FindMyWayRouter = ReturnType<typeof FindMyWay>;

/** Both routers built from the same table; find-my-way routes store `{ name }`. */
export interface RouterPair {
  defs: RouteDef[];
  turnpike: Router;
  fmw: FindMyWayRouter;
}

/** The route's name in both routers: `METHOD /path`. */
export function routeName(d: RouteDef): string {
  return `${d.method} ${d.path}`;
}

/** Compiles Turnpike's router (through the real compileRouter) and find-my-way on `defs`. */
export function buildRouters(defs: RouteDef[] = routeDefs()): RouterPair {
  const configs: RouteConfig[] = defs.map((d, i) => makeRoute(i, routeName(d), d.path, { methods: [d.method] }));
  const turnpike = compileRouter(configs);
  const fmw = FindMyWay();
  for (const d of defs) fmw.on(d.method as 'GET', d.path, function handler() {}, { name: routeName(d) });
  return { defs, turnpike, fmw };
}
