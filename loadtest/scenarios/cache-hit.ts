/**
 * `cache-hit`: a 16 KiB response served from the response cache (memory
 * store): what a cache hit costs, next to `passthrough` (a proxied request)
 * and to nginx's proxy_cache hit (native-bench scenario `cache-hit`). The
 * first request of a run fills the cache; every later one is a hit (the
 * upstream's CPU per request in the run shows it is not asked).
 */
import type { Scenario, ScenarioRequest } from './types.js';

/** Size of the cached body (the same as native-bench's `16k`). */
export const CACHED_BODY_BYTES = 16 * 1024;

/** The 16 KiB JSON the upstream serves under /cacheable/ (with Cache-Control: max-age=3600). */
export function cacheableJson(): string {
  const head = '{"ok":true,"service":"bench-origin","pad":"';
  const tail = '"}';
  return head + 'x'.repeat(CACHED_BODY_BYTES - head.length - tail.length) + tail;
}

let expected: Buffer | undefined;

/** GET /api/cacheable/doc → 16 KiB JSON, a hit after the first request. */
export const cacheHit: Scenario = {
  name: 'cache-hit',
  description: 'GET of a 16 KiB JSON answered from the response cache (memory store)',
  configFile: 'cache-hit.yaml',
  upstreamDelayMs: 0,
  connections: 64,
  rates: [1000, 5000],
  requests: function cacheHitRequests(): ScenarioRequest[] {
    return [{ method: 'GET', path: '/api/cacheable/doc' }];
  },
  verify: function verifyCached(_req: ScenarioRequest, status: number, body: Buffer): string | null {
    if (status !== 200) return `status ${status}, expected 200`;
    expected ??= Buffer.from(cacheableJson());
    return body.equals(expected) ? null : `body of ${body.length} bytes is not the upstream's ${CACHED_BODY_BYTES}-byte JSON`;
  },
};
