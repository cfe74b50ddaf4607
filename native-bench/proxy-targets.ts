/**
 * The processes of the proxy benchmark: the nginx origin and the proxies
 * under test (Turnpike, nginx, HAProxy), rendered from native-bench/configs/.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfig } from './bench-template.js';
import { freePort, httpGet, waitServing, type Managed, type ProcessSet } from './bench-procs.js';

/** Proxies the benchmark knows, in their default order (A, B, C). */
export const PROXY_NAMES = ['turnpike', 'nginx', 'haproxy'] as const;
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
  const port = await freePort();
  const vars = { RUN_DIR: o.runDir, UPSTREAM_PORT: originPort, PROXY_PORT: port, ADMIN_PORT: await freePort() };
  let r: Running;
  if (name === 'turnpike') {
    const configText = renderConfig('turnpike-proxy.yaml', vars);
    const configFile = join(o.runDir, 'turnpike-proxy.yaml');
    writeFileSync(configFile, configText);
    const env: NodeJS.ProcessEnv = {};
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TURNPIKE_') && k !== 'NODE_OPTIONS') env[k] = v;
    env.TURNPIKE_WORKERS = '1';
    env.TURNPIKE_LOG_LEVEL = 'warn';
    const proc = o.set.start('turnpike', process.execPath, [...(o.nodeArgs ?? []), join(o.repoDir, 'bin/turnpike.js'), 'start', '--config', configFile],
      { cpus: o.cpus, env, cwd: o.repoDir });
    r = { name, port, proc, configFile, configText };
  } else if (name === 'nginx') {
    const configText = renderConfig('nginx-proxy.conf', vars);
    const configFile = join(o.runDir, 'nginx-proxy.conf');
    writeFileSync(configFile, configText);
    const proc = o.set.start('nginx', 'nginx', ['-p', o.runDir, '-c', configFile, '-e', join(o.runDir, 'nginx-proxy-error.log')], { cpus: o.cpus });
    r = { name, port, proc, configFile, configText };
  } else {
    const configText = renderConfig('haproxy-proxy.cfg', vars);
    const configFile = join(o.runDir, 'haproxy-proxy.cfg');
    writeFileSync(configFile, configText);
    const proc = o.set.start('haproxy', 'haproxy', ['-f', configFile, '-db'], { cpus: o.cpus });
    r = { name, port, proc, configFile, configText };
  }
  await waitServing(r.proc, port, '/', '"ok":true', 30000);
  return r;
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
