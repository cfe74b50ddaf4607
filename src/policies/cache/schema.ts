/**
 * The cache kind's config: its JSON Schema fragment (composed into
 * `$defs.policy.properties.cache` of the gateway schema) and the checks the
 * schema cannot express.
 */
import type { ConfigPath } from '../../config/issues.js';
import { tryParseDuration, tryParseSize } from '../../config/units.js';
import type { IssueSink } from '../types.js';

/** `{ cache: <this> }` as written in the config file (schema- and check-valid). */
export interface CacheConfig {
  /** memory (per worker, LRU by bytes) or redis (shared; redis.url / REDIS_URL). Default memory. */
  readonly store?: 'memory' | 'redis';
  /** Memory store: most bytes held per worker (bodies, headers, keys). Default 64mb. */
  readonly maxSize?: string | number;
  /** Largest body stored; a larger response streams through uncached. Default 1mb. */
  readonly maxEntry?: string | number;
  /** Freshness when the upstream gives none (statuses in ttlStatuses only); 0 = only explicit freshness. Default 60s. */
  readonly ttl?: string | number;
  /** The statuses `ttl` applies to. Default [200, 203, 204, 300, 301, 308]. */
  readonly ttlStatuses?: readonly number[];
  /** Methods served from the cache: GET, HEAD (HEAD is answered from GET entries). Default both. */
  readonly methods?: readonly string[];
  /** Key parts in order: method, host, path, query, consumer, header:<name>. Default [method, host, path, query]. */
  readonly key?: readonly string[];
  /** How long past freshness an entry may be served while it is refreshed in the background. Default 0. */
  readonly staleWhileRevalidate?: string | number;
  /** How long past freshness an entry may be served when the upstream fails. Default 0. */
  readonly staleIfError?: string | number;
  /** Store responses to requests with Authorization when they say public, s-maxage or must-revalidate (RFC 9111 §3.5). Default false: such requests bypass. */
  readonly cacheAuthorized?: boolean;
  /** Responses with Set-Cookie: skip (not stored), strip (stored without it) or store (with it). Default skip. */
  readonly setCookie?: 'skip' | 'strip' | 'store';
  /** Ignore the client's Cache-Control / Pragma (no-cache, max-age, ...). Default false. */
  readonly ignoreRequestCacheControl?: boolean;
  /** Redis store: key namespace (tp:c:<namespace>:...). Default the policy's name. */
  readonly namespace?: string;
}

/** The key parts, and `header:<token>` (a header name). */
export const KEY_PART = "^(?:method|host|path|query|consumer|header:[!#$%&'*+.^_`|~0-9A-Za-z-]+)$";

/** RFC 9110 heuristically cacheable statuses: the only ones the cache stores. */
export const CACHEABLE_STATUSES: readonly number[] = [200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501];

/** JSON Schema (2020-12) of `{ cache: <this> }`. */
export const cacheSchema: Readonly<Record<string, unknown>> = {
  type: 'object',
  description: 'Response cache (RFC 9111): serves GET/HEAD responses from a per-worker memory store or Redis.',
  additionalProperties: false,
  properties: {
    store: { enum: ['memory', 'redis'], 'x-message': 'must be memory or redis', description: 'memory (per worker, LRU by bytes; default) or redis (shared by workers and instances: redis.url / REDIS_URL).' },
    maxSize: { $ref: '#/$defs/size', description: 'Memory store: most bytes held per worker (default 64mb).' },
    maxEntry: { $ref: '#/$defs/size', description: 'Largest response body stored; larger ones stream through uncached (default 1mb).' },
    ttl: { $ref: '#/$defs/duration', description: 'Freshness when the upstream gives none (for ttlStatuses); 0 = only explicit freshness (default 60s).' },
    ttlStatuses: {
      type: 'array', uniqueItems: true, description: 'Statuses `ttl` applies to (default 200, 203, 204, 300, 301, 308).',
      items: { enum: CACHEABLE_STATUSES, 'x-message': `must be one of ${CACHEABLE_STATUSES.join(', ')} (the heuristically cacheable statuses)` },
    },
    methods: {
      type: 'array', minItems: 1, uniqueItems: true, description: 'Methods answered from the cache (default GET, HEAD; HEAD uses GET entries).',
      items: { enum: ['GET', 'HEAD'], 'x-message': 'must be GET or HEAD' },
    },
    key: {
      type: 'array', minItems: 1, uniqueItems: true,
      description: 'Cache key parts, joined by single spaces in this order: method, host, path, query, consumer, header:<name> (default method, host, path, query).',
      items: { type: 'string', pattern: KEY_PART, 'x-message': 'must be method, host, path, query, consumer or header:<name>' },
    },
    staleWhileRevalidate: { $ref: '#/$defs/duration', description: 'Serve a stale entry this long past freshness while one background request refreshes it (default 0).' },
    staleIfError: { $ref: '#/$defs/duration', description: 'Serve a stale entry this long past freshness when the upstream fails (5xx, connect error, timeout, open breaker) (default 0).' },
    cacheAuthorized: { type: 'boolean', description: 'Store responses to requests with Authorization when marked public, s-maxage or must-revalidate (default false: such requests bypass the cache).' },
    setCookie: { enum: ['skip', 'strip', 'store'], 'x-message': 'must be skip, strip or store', description: 'Responses with Set-Cookie: skip = not stored (default), strip = stored without Set-Cookie, store = stored with it (replayed to every client).' },
    ignoreRequestCacheControl: { type: 'boolean', description: 'Ignore the client\'s Cache-Control and Pragma (no-cache, max-age, min-fresh, no-store, only-if-cached) (default false).' },
    namespace: {
      type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', 'x-message': 'must be letters, digits, _ . - (up to 64, starting with a letter or digit)',
      description: 'Redis store: key namespace, tp:c:<namespace>:... (default the policy name); instances share entries under the same namespace.',
    },
  },
};

/**
 * Checks what the schema cannot: sizes and durations in range, `maxEntry`
 * within `maxSize`, `HEAD` only with `GET` (HEAD is answered from GET
 * entries), header key parts named once (case-insensitively).
 */
export function checkCache(config: unknown, at: ConfigPath, issue: IssueSink): void {
  if (typeof config !== 'object' || config === null) return;
  const c = config as Partial<CacheConfig>;
  const maxSize = c.maxSize === undefined ? null : tryParseSize(c.maxSize);
  const maxEntry = c.maxEntry === undefined ? null : tryParseSize(c.maxEntry);
  if (maxSize === 0) issue([...at, 'maxSize'], 'must be more than 0');
  if (maxEntry === 0) issue([...at, 'maxEntry'], 'must be more than 0');
  if (maxSize !== null && maxEntry !== null && maxSize > 0 && maxEntry > maxSize) issue([...at, 'maxEntry'], 'must not exceed maxSize');
  if (c.store === 'redis' && maxEntry !== null && maxEntry > 64 * 1024 * 1024) issue([...at, 'maxEntry'], 'must be at most 64mb with store: redis');
  for (const field of ['ttl', 'staleWhileRevalidate', 'staleIfError'] as const) {
    const ms = c[field] === undefined ? null : tryParseDuration(c[field]);
    if (ms !== null && ms > 365 * 86_400_000) issue([...at, field], 'must be at most a year (365 days)');
  }
  if (Array.isArray(c.methods) && c.methods.includes('HEAD') && !c.methods.includes('GET')) {
    issue([...at, 'methods'], 'HEAD is answered from GET entries: list GET too');
  }
  if (Array.isArray(c.key)) {
    const seen = new Map<string, number>();
    c.key.forEach((part, i) => {
      if (typeof part !== 'string') return;
      const norm = part.toLowerCase();
      const first = seen.get(norm);
      if (first !== undefined) issue([...at, 'key', i], `duplicate key part (same as key[${first}])`);
      else seen.set(norm, i);
    });
  }
}
