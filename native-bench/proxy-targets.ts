/**
 * The processes of the proxy benchmark: the nginx origin and the proxies
 * under test (Turnpike, nginx, HAProxy rendered from native-bench/configs/
 * with the scenario's routing; the Node.js peers from native-bench/peers/).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfig } from './bench-template.js';
import { freePort, httpGet, waitServing, type Managed, type ProcessSet } from './bench-procs.js';
import { PEER_NAMES, startNodePeer, type PeerName } from './peers/peer-procs.js';
import { CATCH_ALL, haproxyRouting, nginxCachePath, nginxLocations, peerRoutesJson, turnpikeRoutes, type ProxyRouting } from './route-configs.js';

/** Proxies the benchmark knows, in their default order. */
export const PROXY_NAMES = ['turnpike', 'nginx', 'haproxy', 'fast-gateway', 'fastify-http-proxy'] as const;
/** One of {@link PROXY_NAMES}. */
export type ProxyName = (typeof PROXY_NAMES)[number];

/** The origin's "tiny" body: 60 bytes of JSON. */
export const TINY_BODY = '{"ok":true,"service":"bench-origin","items":[1,2,3],"v":"1"}';
/** Size of the "16k" scenario's body. */
export const BIG_BODY_BYTES = 16 * 1024;

/** A started process with its port and rendered config. */
export interface Running {
  name: string;
  port: number;
  proc: Managed;
  /** The rendered config file and its text (for the report). */
  configFile: string;
  configText: string;
  /** One line describing a Node.js peer's setup (peers only). */
  description?: string;
}

/** Where things run and how. */
export interface TargetOptions {
  set: ProcessSet;
  /** Temp directory for rendered configs, pid files, logs, profiles. */
  runDir: string;
  repoDir: string;
  /** taskset CPU list for the process, undefined = not pinned. */
  cpus?: string;
  /**
   * Extra node flags for Turnpike (e.g. --cpu-prof); given to the primary,
   * whose cluster workers inherit them (execArgv). Node 20 refuses --cpu-prof
   * in NODE_OPTIONS.
   */
  nodeArgs?: string[];
  /** How the proxy routes (default: one catch-all route). */
  routing?: ProxyRouting;
  /**
   * Upstream pool size: Turnpike's `connections` (default 128) and nginx's
   * idle `keepalive` (default 64). HAProxy has no cap; the peers use 128.
   */
  upstreamPool?: number;
  /** Path polled until it answers 200 with the origin's JSON (default `/`). */
  probePath?: string;
  /** Suffix for rendered file names (the scenario), so each scenario's configs stay in the run dir. */
  tag?: string;
  /** Directory of the compiled peer scripts (default `<repoDir>/dist/native-bench/peers`). */
  peerScriptDir?: string;
  /** Answer from the proxy's response cache (Turnpike's cache policy, nginx proxy_cache; scenario cache-hit). */
  cache?: boolean;
}

/** `base.ext` → `base.<tag>.ext`. */
function tagged(file: string, tag: string | undefined): string {
  if (tag === undefined) return file;
  const dot = file.lastIndexOf('.');
  return `${file.slice(0, dot)}.${tag}${file.slice(dot)}`;
}

/** The 16 KiB JSON body the origin serves at /big. */
export function bigBody(): string {
  const head = '{"ok":true,"service":"bench-origin","pad":"';
  const tail = '"}';
  return head + 'x'.repeat(BIG_BODY_BYTES - head.length - tail.length) + tail;
}

/** Starts the nginx origin (one worker) and waits until it answers. */
export async function startOrigin(o: TargetOptions): Promise<Running> {
  const port = await freePort();
  writeFileSync(join(o.runDir, 'big.json'), bigBody());
  const configText = renderConfig('nginx-upstream.conf', { RUN_DIR: o.runDir, UPSTREAM_PORT: port, TINY_BODY });
  const configFile = join(o.runDir, 'nginx-upstream.conf');
  writeFileSync(configFile, configText);
  const proc = o.set.start('origin (nginx)', 'nginx', ['-p', o.runDir, '-c', configFile, '-e', join(o.runDir, 'upstream-error.log')], { cpus: o.cpus });
  await waitServing(proc, port, '/', '"ok":true');
  const big = await httpGet(port, '/big');
  if (big.body.length !== BIG_BODY_BYTES) throw new Error(`origin /big returned ${big.body.length} bytes`);
  return { name: 'origin', port, proc, configFile, configText };
}

/** Starts one proxy in front of the origin on `originPort` and waits until it proxies. */
export async function startProxy(name: ProxyName, originPort: number, o: TargetOptions): Promise<Running> {
  if ((PEER_NAMES as readonly string[]).includes(name)) return startPeer(name as PeerName, originPort, o);
  const port = await freePort();
  const routing = o.routing ?? CATCH_ALL;
  const vars = {
    RUN_DIR: o.runDir, UPSTREAM_PORT: originPort, PROXY_PORT: port, ADMIN_PORT: await freePort(),
    UPSTREAM_CONNECTIONS: o.upstreamPool ?? 128, KEEPALIVE: o.upstreamPool ?? 64,
    ROUTES: turnpikeRoutes(routing, 'origin', o.cache === true), LOCATIONS: nginxLocations(routing, 'bench_origin', o.cache === true),
    ROUTING: haproxyRouting(routing), HTTP_EXTRA: nginxCachePath(o.runDir, o.cache === true),
  };
  if (o.cache === true && name !== 'turnpike' && name !== 'nginx') throw new Error(`${name} has no response cache configured here (cache scenarios run turnpike and nginx)`);
  const template = name === 'turnpike' ? 'turnpike-proxy.yaml' : name === 'nginx' ? 'nginx-proxy.conf' : 'haproxy-proxy.cfg';
  const configText = renderConfig(template, vars);
  const configFile = join(o.runDir, tagged(template, o.tag));
  writeFileSync(configFile, configText);
  let proc: Managed;
  if (name === 'turnpike') {
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TURNPIKE_') && k !== 'NODE_OPTIONS') env[k] = v;
    env.TURNPIKE_WORKERS = '1';
    env.TURNPIKE_LOG_LEVEL = 'warn';
    // The floor, as nginx's bench config has access_log off. Set here, not in
    // the template, so that an older build (an A/B base) still reads the template.
    env.TURNPIKE_ACCESS_LOG = 'off';
    proc = o.set.start('turnpike', process.execPath, [...(o.nodeArgs ?? []), join(o.repoDir, 'bin/turnpike.js'), 'start', '--config', configFile],
      { cpus: o.cpus, env, cwd: o.repoDir });
  } else if (name === 'nginx') {
    proc = o.set.start('nginx', 'nginx', ['-p', o.runDir, '-c', configFile, '-e', join(o.runDir, 'nginx-proxy-error.log')], { cpus: o.cpus });
  } else {
    proc = o.set.start('haproxy', 'haproxy', ['-f', configFile, '-db'], { cpus: o.cpus });
  }
  await waitServing(proc, port, o.probePath ?? '/', '"ok":true', 30000);
  return { name, port, proc, configFile, configText };
}

/**
 * Starts a Node.js peer with the forwarding headers on (the same header work
 * as the others); with a routing table it gets a routes file in the run dir.
 */
async function startPeer(name: PeerName, originPort: number, o: TargetOptions): Promise<Running> {
  const routes = peerRoutesJson(o.routing ?? CATCH_ALL);
  let routesFile: string | undefined;
  if (routes !== null) {
    routesFile = join(o.runDir, tagged(`${name}-routes.json`, o.tag));
    writeFileSync(routesFile, routes);
  }
  const p = await startNodePeer(name, originPort, {
    set: o.set, repoDir: o.repoDir, cpus: o.cpus, routesFile, scriptDir: o.peerScriptDir, forwardHeaders: true,
    probePath: o.probePath, pool: o.upstreamPool,
  });
  const configText = `# ${p.description}\n` + (routes === null ? '# (no --routes file: one catch-all route)\n' : `# --routes ${routesFile}:\n${routes}`);
  return { name, port: p.port, proc: p.proc, configFile: routesFile ?? join(o.runDir, tagged(`${name}.txt`, o.tag)), configText, description: p.description };
}

/** What the origin saw from one proxy, and what the client got back. */
export interface ForwardingCheck {
  proxy: string;
  /** Forwarding headers as received by the origin (from /__headers). */
  upstreamSaw: Record<string, string>;
  /** X-Request-Id on the client response ('' when absent). */
  responseRequestId: string;
  /** Response header names the client got for GET / (sorted). */
  responseHeaders: string[];
}

/** Asks the proxy for the origin's /__headers echo (fairness check). */
export async function checkForwarding(p: Running): Promise<ForwardingCheck> {
  const echo = await httpGet(p.port, '/__headers');
  const plain = await httpGet(p.port, '/');
  const rid = plain.headers['x-request-id'];
  return {
    proxy: p.name,
    upstreamSaw: JSON.parse(echo.body) as Record<string, string>,
    responseRequestId: typeof rid === 'string' ? rid : '',
    responseHeaders: Object.keys(plain.headers).sort(),
  };
}
