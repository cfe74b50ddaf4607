/**
 * Whether and how long a response may be stored (RFC 9111 §3, §4.2 for a
 * shared cache), and the header merge of a 304 revalidation (§4.3.4).
 */
import type { EntryTimes } from './cache-entry.js';
import { Directives, hasHeaderName, headerValues, parseCacheControl, parseDelta, parseHttpDate, splitList } from './cache-control.js';
import { CACHEABLE_STATUSES } from './schema.js';
import type { CacheSettings } from './settings.js';

const CACHEABLE = new Array<boolean>(600).fill(false);
for (const s of CACHEABLE_STATUSES) CACHEABLE[s] = true;

/** Response fields never stored: per-hop, framing, per-request, or recomputed on every answer. */
const NOT_STORED = new Set([
  'date', 'age', 'x-cache', 'x-request-id', 'content-length', 'transfer-encoding', 'connection', 'keep-alive',
  'proxy-connection', 'te', 'trailer', 'upgrade',
]);

/** What a storable response becomes. */
export interface StorePlan {
  readonly times: EntryTimes;
  /** The headers to store (see NOT_STORED; Set-Cookie as `setCookie` says). */
  readonly headers: string[];
  /** Lower-case Vary names, or null. */
  readonly varyNames: readonly string[] | null;
}

/** The circumstances of a response. */
export interface ResponseContext {
  /** Epoch ms the request went upstream and the response head arrived (RFC 9111 request_time / response_time). */
  readonly requestTime: number;
  readonly responseTime: number;
  /** The request carried Authorization. */
  readonly authorized: boolean;
}

/**
 * The storage plan of an origin response, or why it is not stored (a short
 * reason for logs and tests). `headers` is the origin's flat lower-case list
 * (Date, Age, Set-Cookie included).
 */
export function planStore(status: number, headers: readonly string[], rc: ResponseContext, s: CacheSettings): StorePlan | string {
  if (status < 0 || status >= 600 || !CACHEABLE[status]) return 'status';
  const cc = parseCacheControl(headerValues(headers, 'cache-control'));
  if (cc.noStore) return 'no-store';
  if (cc.private) return 'private';
  if (rc.authorized && !(cc.public || cc.sMaxAge >= 0 || cc.mustRevalidate)) return 'authorization';
  const setCookie = hasHeaderName(headers, 'set-cookie');
  if (setCookie && s.setCookie === 'skip') return 'set-cookie';
  const vary = headerValues(headers, 'vary');
  let varyNames: string[] | null = null;
  if (vary !== '') {
    varyNames = [];
    for (const n of splitList(vary)) {
      const name = n.toLowerCase();
      if (name === '*') return 'vary-star';
      if (!varyNames.includes(name)) varyNames.push(name);
    }
    if (varyNames.length === 0) varyNames = null;
  }
  const dateMs = parseHttpDate(headerValues(headers, 'date'));
  const lifetimeMs = freshnessLifetime(status, headers, cc, dateMs, rc.responseTime, s);
  if (lifetimeMs < 0) return 'no-freshness';
  const ageValue = parseDelta(headerValues(headers, 'age').split(',')[0].trim());
  const apparentMs = Number.isNaN(dateMs) ? 0 : Math.max(0, rc.responseTime - dateMs);
  const correctedAgeMs = (ageValue < 0 ? 0 : ageValue * 1000) + Math.max(0, rc.responseTime - rc.requestTime);
  const initialAgeMs = Math.max(apparentMs, correctedAgeMs);
  const mustRevalidate = cc.mustRevalidate || cc.proxyRevalidate || cc.sMaxAge >= 0;
  const noStale = mustRevalidate || cc.noCache;
  const swrMs = noStale ? 0 : cc.staleWhileRevalidate >= 0 ? cc.staleWhileRevalidate * 1000 : s.swrMs;
  const sieMs = noStale ? 0 : cc.staleIfError >= 0 ? cc.staleIfError * 1000 : s.sieMs;
  const etag = headerValues(headers, 'etag');
  const lastModified = headerValues(headers, 'last-modified');
  const freshUntil = rc.responseTime - initialAgeMs + lifetimeMs;
  let keepUntil = freshUntil + Math.max(swrMs, sieMs);
  const validators = etag !== '' || lastModified !== '';
  if (keepUntil <= rc.responseTime || cc.noCache) {
    // Stale on arrival (or to be revalidated on every use): only worth
    // keeping to save the body on a conditional request, for `ttl`.
    if (!validators || s.ttlMs <= 0) return cc.noCache ? 'no-cache-without-validator' : 'stale';
    keepUntil = Math.max(keepUntil, rc.responseTime + s.ttlMs);
  }
  const stored: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i];
    if (NOT_STORED.has(name) || (name === 'set-cookie' && s.setCookie !== 'store')) continue;
    stored.push(name, headers[i + 1]);
  }
  return {
    headers: stored,
    varyNames,
    times: {
      responseTime: rc.responseTime, initialAgeMs, freshUntil, swrMs, sieMs, keepUntil,
      etag, lastModified, lastModifiedMs: parseHttpDate(lastModified), noCache: cc.noCache, mustRevalidate,
    },
  };
}

/**
 * Explicit freshness (s-maxage, max-age, Expires − Date), else `ttl` for the
 * statuses it applies to, in ms; -1 when none applies.
 */
function freshnessLifetime(status: number, headers: readonly string[], cc: Directives, dateMs: number, responseTime: number, s: CacheSettings): number {
  if (cc.sMaxAge >= 0) return cc.sMaxAge * 1000;
  if (cc.maxAge >= 0) return cc.maxAge * 1000;
  const expires = headerValues(headers, 'expires');
  if (expires !== '') {
    const at = parseHttpDate(expires);
    // An invalid Expires (e.g. "0") means already expired (RFC 9111 §5.3).
    if (Number.isNaN(at)) return 0;
    return Math.max(0, at - (Number.isNaN(dateMs) ? responseTime : dateMs));
  }
  return s.ttlMs > 0 && s.ttlStatus[status] ? s.ttlMs : -1;
}

/** Fields of a 304 that do not update the stored response. */
const NOT_UPDATED = new Set(['content-length', 'transfer-encoding', 'content-encoding', 'content-range', 'x-cache', 'x-request-id']);

/**
 * The stored headers updated with a 304's (RFC 9111 §4.3.4): each field the
 * 304 carries replaces the stored one of that name (framing and encoding
 * fields excepted), Date and Age included so that the new freshness is
 * computed from the 304.
 */
export function mergeNotModified(stored: readonly string[], fresh: readonly string[]): string[] {
  const replaced = new Set<string>();
  for (let i = 0; i < fresh.length; i += 2) if (!NOT_UPDATED.has(fresh[i])) replaced.add(fresh[i]);
  const out: string[] = [];
  for (let i = 0; i < stored.length; i += 2) if (!replaced.has(stored[i])) out.push(stored[i], stored[i + 1]);
  for (let i = 0; i < fresh.length; i += 2) if (replaced.has(fresh[i])) out.push(fresh[i], fresh[i + 1]);
  return out;
}
