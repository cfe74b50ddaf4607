/**
 * Starts the Node.js peer proxies (fast-gateway, fastify + @fastify/http-proxy)
 * for the native benchmark, as ProcessSet members like the other targets.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, waitServing, type Managed, type ProcessSet } from '../bench-procs.js';
import { POOL_CONNECTIONS, readRoutes } from './peer-cli.js';

/** Node.js peers the benchmark knows. */
export const PEER_NAMES = ['fast-gateway', 'fastify-http-proxy'] as const;
/** One of {@link PEER_NAMES}. */
export type PeerName = (typeof PEER_NAMES)[number];

/** How to start a peer. */
export interface PeerOptions {
  set: ProcessSet;
  repoDir: string;
  /** taskset CPU list, undefined = not pinned. */
  cpus?: string;
  /** JSON array of `{ path }` route patterns; undefined = one catch-all route. */
  routesFile?: string;
  /** Directory of the compiled peer scripts (default `<repoDir>/dist/native-bench/peers`). */
  scriptDir?: string;
  /**
   * Add X-Forwarded-For/-Proto/-Host and X-Request-Id (request and response)
   * as Turnpike, and the nginx/HAProxy configs, do (default true).
   */
  forwardHeaders?: boolean;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Upstream connections per origin (default 128, as Turnpike's `connections`). */
  pool?: number;
  /**
   * Path polled until it answers 200 (default `/`, or with `routesFile` the
   * first route with params filled in).
   */
  probePath?: string;
}

/** A started peer. */
export interface RunningPeer {
  name: PeerName;
  port: number;
  proc: Managed;
  /** One line describing its configuration, for reports. */
  description: string;
}

const SCRIPTS: Record<PeerName, string> = {
  'fast-gateway': 'fast-gateway-proxy.js',
  'fastify-http-proxy': 'fastify-proxy.js',
};

/**
 * Starts peer `name` in front of `127.0.0.1:upstreamPort` (one process, one
 * event loop, pinned to `o.cpus`) and resolves once a GET through it
 * answers 200.
 */
export async function startNodePeer(name: PeerName, upstreamPort: number, o: PeerOptions): Promise<RunningPeer> {
  const port = await freePort();
  const forwardHeaders = o.forwardHeaders ?? true;
  const script = join(o.scriptDir ?? join(o.repoDir, 'dist/native-bench/peers'), SCRIPTS[name]);
  const args = [...(o.nodeArgs ?? []), script, '--port', String(port), '--upstream', `http://127.0.0.1:${upstreamPort}`];
  if (o.routesFile !== undefined) args.push('--routes', o.routesFile);
  if (forwardHeaders) args.push('--forward-headers');
  const pool = o.pool ?? POOL_CONNECTIONS;
  args.push('--pool', String(pool));
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (k !== 'NODE_OPTIONS') env[k] = v;
  const proc = o.set.start(name, process.execPath, args, { cpus: o.cpus, env, cwd: o.repoDir });
  const routes = o.routesFile === undefined ? null : readRoutes(o.routesFile);
  const probe = o.probePath ?? (routes === null ? '/' : samplePath(routes[0]));
  await waitServing(proc, port, probe, '', 20000);
  return { name, port, proc, description: describePeer(name, o.repoDir, routes, forwardHeaders, pool) };
}

/** A concrete path matching a find-my-way pattern: `:param` -> `1`, `*` -> `x`. */
export function samplePath(pattern: string): string {
  return pattern.replace(/:[^/]+/g, '1').replace(/\*$/, 'x');
}

/** The one-line configuration summary of a peer. */
export function describePeer(name: PeerName, repoDir: string, routes: string[] | null, forwardHeaders: boolean, pool = POOL_CONNECTIONS): string {
  const routing = routes === null ? 'one catch-all route' : `${routes.length} routes`;
  const headers = forwardHeaders ? 'X-Forwarded-For/-Proto/-Host + X-Request-Id added' : 'no X-Forwarded-For/-Proto or X-Request-Id';
  if (name === 'fast-gateway') {
    return `fast-gateway ${version(repoDir, 'fast-gateway')} (restana ${version(repoDir, 'restana')}, fast-proxy-lite `
      + `${version(repoDir, 'fast-proxy-lite')}), 1 process; upstream: node http.Agent keep-alive, maxSockets ${pool}, `
      + `idle 300 s, shared by all routes; ${routing} (0http sequential router); ${headers}`;
  }
  return `fastify ${version(repoDir, 'fastify')} + @fastify/http-proxy ${version(repoDir, '@fastify/http-proxy')} `
    + `(reply-from ${version(repoDir, '@fastify/reply-from')}, undici ${version(repoDir, 'undici')}), 1 process, logger off; `
    + `upstream: undici Agent, ${pool} connections, pipelining 1, keepAliveTimeout 300 s; ${routing} (find-my-way); `
    + `bodies streamed; ${headers}`;
}

function version(repoDir: string, pkg: string): string {
  try {
    return (JSON.parse(readFileSync(join(repoDir, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}
