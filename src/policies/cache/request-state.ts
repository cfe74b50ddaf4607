/**
 * The cache's state for one request (`ctx.cache`), from the access phase to
 * the responseHead phase (and onLog, which settles what never got a
 * response). Requests the cache does not store for (bypass) or answered
 * itself (served) share one state object per policy: no allocation.
 */
import type { RequestContext } from '../../ingress/request-context.js';
import type { BodyCollector } from './body-collector.js';
import type { CacheEntry, VaryRef } from './cache-entry.js';
import type { Fill } from './fills.js';

/** Not considered (method, Authorization, Range, no-store): responses get `X-Cache: BYPASS`. */
export const PHASE_BYPASS = 0;
/** Answered by the cache (hit, stale, 304): its answer already says X-Cache. */
export const PHASE_SERVED = 1;
/** Going upstream; the response head decides what is stored. */
export const PHASE_FILL = 2;
/** The response head was handled. */
export const PHASE_DONE = 3;
/** An unsafe method: a successful response invalidates the GET entry (RFC 9111 §4.4). */
export const PHASE_INVALIDATE = 4;

/** One request's cache state. */
export class CacheRequestState {
  /** The primary key (for PHASE_INVALIDATE: the GET key of the target). */
  key = '';
  /** Epoch ms the request went upstream (RFC 9111 request_time). */
  requestTime = 0;
  /** A stored entry this request revalidates, or may serve on an upstream error. */
  stale: CacheEntry | null = null;
  /** The key's Vary marker as the lookup found it (variants stored by this request keep its epoch). */
  marker: VaryRef | null = null;
  /** Conditional headers were added for `stale`. */
  revalidating = false;
  /** The fill this request leads (null: a HEAD, or a request released from a fill). */
  fill: Fill | null = null;
  /** The request carried Authorization (cacheAuthorized: true). */
  authorized = false;
  /** The client's own If-None-Match / If-Modified-Since, kept when the cache replaced them. */
  ifNoneMatch = '';
  ifModifiedSince = '';
  /** The body tap collecting a cacheable response. */
  collector: BodyCollector | null = null;
  /** The store's purge generation when the request started (a purge meanwhile: do not store). */
  generation = 0;

  /**
   * @param owner the cache policy instance (one cache policy per route takes effect)
   * @param phase one of the PHASE_ constants
   */
  constructor(readonly owner: object, public phase: number) {}
}

/**
 * The cache's verdict on a finished request as X-Cache says it (HIT, STALE,
 * MISS, BYPASS), for the access log and the request's span; '' on a route
 * without a cache policy. A request whose answer never went through the
 * cache's response stage (an upstream failure) is told by its phase.
 */
export function cacheResult(ctx: RequestContext): string {
  if (ctx.cacheStatus !== '') return ctx.cacheStatus;
  const st = ctx.cache;
  if (st === null) return '';
  if (st.phase === PHASE_SERVED) return 'HIT';
  if (st.phase === PHASE_BYPASS || st.phase === PHASE_INVALIDATE) return 'BYPASS';
  return 'MISS';
}
