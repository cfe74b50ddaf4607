/**
 * Checks, before any measuring, that a proxy answers a scenario's requests
 * correctly: right status, the origin's body, routed paths only.
 */
import http from 'node:http';
import { BIG_BODY_BYTES, TINY_BODY } from './proxy-targets.js';

/** A response: status, body bytes, how long it took, and its X-Cache. */
interface Got {
  status: number;
  body: Buffer;
  ms: number;
  cache: string;
}

function send(agent: http.Agent, port: number, method: string, path: string, body?: Buffer): Promise<Got> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, method, path, agent, timeout: 10_000,
      headers: body === undefined ? {} : { 'content-type': 'application/octet-stream', 'content-length': body.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks), ms: Date.now() - t0, cache: String(res.headers['x-cache'] ?? '') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timeout`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** What one scenario expects from a proxy. */
export type ScenarioCheck =
  | { kind: 'json'; paths: string[]; unrouted?: string; minMs?: number }
  | { kind: 'size'; path: string; bytes: number }
  | { kind: 'cached'; path: string; bytes: number }
  | { kind: 'echo'; path: string; body: Buffer };

/**
 * Runs `check` against the proxy on `port` (over one keep-alive connection,
 * as wrk does). Resolves with a one-line account of what was checked;
 * throws naming the first wrong answer.
 */
export async function checkScenario(port: number, check: ScenarioCheck): Promise<string> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    if (check.kind === 'size') {
      const r = await send(agent, port, 'GET', check.path);
      if (r.status !== 200 || r.body.length !== check.bytes) throw new Error(`GET ${check.path}: status ${r.status}, ${r.body.length} bytes (want 200, ${check.bytes})`);
      return `GET ${check.path} → 200, ${check.bytes} bytes`;
    }
    if (check.kind === 'cached') {
      // The first request fills the proxy's cache; the next ones must be hits (X-Cache: HIT, as both caches say).
      const first = await send(agent, port, 'GET', check.path);
      const hit = await send(agent, port, 'GET', check.path);
      for (const r of [first, hit]) {
        if (r.status !== 200 || r.body.length !== check.bytes) throw new Error(`GET ${check.path}: status ${r.status}, ${r.body.length} bytes (want 200, ${check.bytes})`);
      }
      if (!hit.body.equals(first.body)) throw new Error(`GET ${check.path}: the cached body differs from the origin's`);
      if (hit.cache !== 'HIT') throw new Error(`GET ${check.path} again: X-Cache ${JSON.stringify(hit.cache)}, want HIT (the proxy is not answering from its cache)`);
      return `GET ${check.path} → 200, ${check.bytes} bytes (X-Cache ${first.cache}), again → X-Cache HIT, same bytes`;
    }
    if (check.kind === 'echo') {
      const r = await send(agent, port, 'POST', check.path, check.body);
      if (r.status !== 200 || !r.body.equals(check.body)) throw new Error(`POST ${check.path}: status ${r.status}, echo of ${r.body.length} bytes (want 200 and the ${check.body.length} bytes sent)`);
      return `POST ${check.path} of ${check.body.length} bytes → 200, byte-identical echo`;
    }
    let slowest = 0;
    for (const path of check.paths) {
      const r = await send(agent, port, 'GET', path);
      if (r.status !== 200 || r.body.toString('utf8') !== TINY_BODY) throw new Error(`GET ${path}: status ${r.status}, body ${JSON.stringify(r.body.toString('utf8').slice(0, 80))} (want 200 and the origin's JSON)`);
      slowest = Math.max(slowest, r.ms);
      if (check.minMs !== undefined && r.ms < check.minMs) throw new Error(`GET ${path} took ${r.ms} ms, the origin delays ${check.minMs}+ ms`);
    }
    let text = check.paths.length === 1 ? `GET ${check.paths[0]} → 200 + the JSON` : `all ${check.paths.length} lookup paths → 200 + the JSON`;
    if (check.minMs !== undefined) text += ` (in ${slowest} ms)`;
    if (check.unrouted !== undefined) {
      const r = await send(agent, port, 'GET', check.unrouted);
      if (r.status === 200) throw new Error(`GET ${check.unrouted} (in no route) answered 200: the proxy is not routing by the table`);
      text += `; unrouted ${check.unrouted} → ${r.status}`;
    }
    return text;
  } finally {
    agent.destroy();
  }
}

/** The default checks of the catch-all scenarios on the nginx origin. */
export const TINY_CHECK: ScenarioCheck = { kind: 'json', paths: ['/'] };
/** The cache-hit scenario's check: /big is answered from the proxy's cache. */
export const CACHED_CHECK: ScenarioCheck = { kind: 'cached', path: '/big', bytes: BIG_BODY_BYTES };
/** The 16k scenario's check. */
export const BIG_CHECK: ScenarioCheck = { kind: 'size', path: '/big', bytes: BIG_BODY_BYTES };
