/**
 * A cache policy's config turned into what the request path uses: defaults
 * filled in, durations and sizes in numbers. Runs once per policy when the
 * worker builds it.
 */
import { parseDuration, parseSize } from '../../config/units.js';
import type { CacheConfig } from './schema.js';

/** Defaults of the optional fields (README, "Response cache"). */
export const CACHE_DEFAULTS = {
  store: 'memory',
  maxSize: 64 * 1024 * 1024,
  maxEntry: 1024 * 1024,
  ttlMs: 60_000,
  ttlStatuses: [200, 203, 204, 300, 301, 308],
  methods: ['GET', 'HEAD'],
  key: ['method', 'host', 'path', 'query'],
  setCookie: 'skip',
} as const;

/** The compiled settings of one cache policy. */
export interface CacheSettings {
  /** The policy's config name (metrics label, purge filter). */
  readonly policy: string;
  readonly store: 'memory' | 'redis';
  readonly maxSize: number;
  readonly maxEntry: number;
  readonly ttlMs: number;
  /** Per status code 0-599: whether `ttl` applies. */
  readonly ttlStatus: readonly boolean[];
  readonly get: boolean;
  readonly head: boolean;
  readonly key: readonly string[];
  readonly swrMs: number;
  readonly sieMs: number;
  readonly cacheAuthorized: boolean;
  readonly setCookie: 'skip' | 'strip' | 'store';
  readonly ignoreRequestCacheControl: boolean;
  /** Redis key namespace. */
  readonly namespace: string;
}

/** Compiles a check-valid config of the policy named `policy`. */
export function cacheSettings(policy: string, c: CacheConfig): CacheSettings {
  const methods = c.methods ?? CACHE_DEFAULTS.methods;
  const ttlStatus: boolean[] = new Array<boolean>(600).fill(false);
  for (const s of c.ttlStatuses ?? CACHE_DEFAULTS.ttlStatuses) ttlStatus[s] = true;
  return {
    policy,
    store: c.store ?? CACHE_DEFAULTS.store,
    maxSize: c.maxSize === undefined ? CACHE_DEFAULTS.maxSize : parseSize(c.maxSize),
    maxEntry: c.maxEntry === undefined ? CACHE_DEFAULTS.maxEntry : parseSize(c.maxEntry),
    ttlMs: c.ttl === undefined ? CACHE_DEFAULTS.ttlMs : parseDuration(c.ttl),
    ttlStatus,
    get: methods.includes('GET'),
    head: methods.includes('HEAD'),
    key: [...(c.key ?? CACHE_DEFAULTS.key)],
    swrMs: c.staleWhileRevalidate === undefined ? 0 : parseDuration(c.staleWhileRevalidate),
    sieMs: c.staleIfError === undefined ? 0 : parseDuration(c.staleIfError),
    cacheAuthorized: c.cacheAuthorized ?? false,
    setCookie: c.setCookie ?? CACHE_DEFAULTS.setCookie,
    ignoreRequestCacheControl: c.ignoreRequestCacheControl ?? false,
    namespace: c.namespace ?? policy,
  };
}
