/**
 * The cache's responseHead phase: marks responses (`X-Cache`), decides from
 * the origin's own head (not the one earlier policies edited) whether the
 * response is stored, taps its body as it streams to the client, refreshes
 * an entry from an upstream 304, serves a stale entry instead of an upstream
 * failure (stale-if-error), and invalidates after unsafe requests.
 */
import type { RequestContext } from '../../ingress/request-context.js';
import type { LocalResponse } from '../local-response.js';
import type { ResponseHead, Verdict } from '../types.js';
import { removeHeader } from '../../lib/header-list.js';
import { BodyCollector } from './body-collector.js';
import type { CacheCore } from './cache-core.js';
import type { CacheEntry } from './cache-entry.js';
import { headerValues, parseDelta } from './cache-control.js';
import { contextLookup, varyKey } from './cache-key.js';
import { mergeNotModified, planStore } from './freshness.js';
import { MISS, REVALIDATED, STALE } from './metrics.js';
import { PHASE_BYPASS, PHASE_DONE, PHASE_FILL, PHASE_INVALIDATE, type CacheRequestState } from './request-state.js';

/** Problems of the terminal a stale entry may stand in for: upstream failures, not refusals of the request. */
const STALE_ON_PROBLEM = new Set([
  'upstream_connect_failed', 'upstream_tls', 'upstream_bad_response', 'upstream_unavailable', 'no_healthy_target', 'circuit_open', 'upstream_overloaded', 'upstream_timeout',
  'aggregate_call_failed', 'aggregate_timeout',
]);

/** What an aggregate terminal's merged answer says of itself (src/aggregate/aggregate-run.ts). */
const AGGREGATE_ORIGIN: readonly string[] = ['content-type', 'application/json'];

/** An origin's raw head as a flat lower-case list (latin1 values: one char per byte). */
export function originHeaders(raw: readonly Buffer[]): string[] {
  const out: string[] = new Array<string>(raw.length);
  for (let i = 0; i < raw.length; i += 2) {
    out[i] = raw[i].toString('latin1').toLowerCase();
    out[i + 1] = raw[i + 1].toString('latin1');
  }
  return out;
}

/** Sets X-Cache on a response that passes through (an X-Cache the origin sent, e.g. from its own cache, is replaced). */
function markCache(ctx: RequestContext, head: ResponseHead, value: string): void {
  ctx.cacheStatus = value;
  removeHeader(head.headers, 'x-cache');
  head.headers.push('x-cache', value);
}

/** The responseHead stage of one cache policy. */
export class ResponseStage {
  constructor(private readonly core: CacheCore) {}

  /** Handles a response head of a request the policy owns. */
  head(ctx: RequestContext, st: CacheRequestState, head: ResponseHead): Verdict {
    switch (st.phase) {
      case PHASE_BYPASS:
        markCache(ctx, head, 'BYPASS');
        return undefined;
      case PHASE_INVALIDATE:
        st.phase = PHASE_DONE;
        if (head.problem === undefined && head.status < 400) this.core.delete(st.key);
        markCache(ctx, head, 'BYPASS');
        return undefined;
      case PHASE_FILL:
        st.phase = PHASE_DONE;
        return this.fillHead(ctx, st, head);
      default:
        return undefined; // answered by the cache (its answer says X-Cache), or handled
    }
  }

  private fillHead(ctx: RequestContext, st: CacheRequestState, head: ResponseHead): Verdict {
    const core = this.core;
    const now = core.now();
    if (head.problem !== undefined) {
      if (STALE_ON_PROBLEM.has(head.problem.code)) {
        const stale = this.staleOnError(ctx, st, now);
        if (stale !== null) return stale;
      }
      return this.miss(ctx, st, head);
    }
    const exchange = ctx.call === null ? null : ctx.call.exchange;
    const raw = exchange === null ? null : exchange.upstreamRawHeaders;
    let status: number;
    let origin: string[];
    if (exchange !== null && raw !== null) {
      status = exchange.upstreamStatus;
      origin = originHeaders(raw);
    } else if (ctx.route !== null && ctx.route.aggregate !== undefined && ctx.call === null && head.status === 200) {
      // An aggregate's merged answer is the origin: JSON with no freshness of
      // its own (the policy's ttl applies); headers policies and the request
      // added are not part of it. A partial answer (an optional call failed) is not stored.
      if (headerValues(head.headers, 'x-partial') !== '') return this.miss(ctx, st, head);
      status = 200;
      origin = AGGREGATE_ORIGIN.slice();
    } else {
      // A local answer of a policy after the cache, or a transcoded response: nothing to store.
      return this.miss(ctx, st, head);
    }
    if (status >= 500) {
      const stale = this.staleOnError(ctx, st, now);
      if (stale !== null) return stale;
    }
    if (status === 304 && st.revalidating && st.stale !== null) return this.revalidated(ctx, st, st.stale, origin, now);
    // HEAD responses have no body. On a route with responseBody policies the
    // entry is the upstream's response as received (the tap sees the raw
    // body); every hit goes through the body phase again.
    if (ctx.method === 'HEAD') return this.miss(ctx, st, head);
    const plan = planStore(status, origin, { requestTime: st.requestTime, responseTime: now, authorized: st.authorized }, core.settings);
    if (typeof plan === 'string') {
      // The origin no longer lets the entry being revalidated be stored: drop it.
      if (st.stale !== null && status < 500) core.delete(st.key);
      return this.miss(ctx, st, head);
    }
    const length = parseDelta(headerValues(origin, 'content-length'));
    if (length > core.settings.maxEntry) return this.miss(ctx, st, head);
    const varyValues = plan.varyNames === null ? '' : varyKey(plan.varyNames, contextLookup(ctx));
    const key = st.key;
    const path = ctx.path;
    const marker = st.marker ?? (st.stale === null ? null : st.stale.varyRef);
    const collector = new BodyCollector(core.settings.maxEntry, {
      collected(body: Buffer): void {
        const entry = core.storeEntry(key, path, status, plan, body, varyValues, st.generation, marker);
        core.settle(st, entry, false);
      },
      failed(): void {
        core.settle(st, null, false);
      },
    });
    st.collector = collector;
    ctx.bodyTap = collector;
    core.counters.results[MISS]++;
    markCache(ctx, head, 'MISS');
    return undefined;
  }

  /** Not stored: the fill's waiters go upstream. */
  private miss(ctx: RequestContext, st: CacheRequestState, head: ResponseHead): undefined {
    this.core.counters.results[MISS]++;
    this.core.settle(st, null, false);
    markCache(ctx, head, 'MISS');
    return undefined;
  }

  /** The stale entry as the answer to an upstream failure, when its stale-if-error window allows. */
  private staleOnError(ctx: RequestContext, st: CacheRequestState, now: number): LocalResponse | null {
    const stale = st.stale;
    if (stale === null || !stale.usableOnError(now)) return null;
    this.core.counters.results[STALE]++;
    this.core.settle(st, stale, true);
    return this.core.answer(ctx, stale, now, 'STALE', st.ifNoneMatch, st.ifModifiedSince);
  }

  /** An upstream 304 to the cache's conditional request: the entry is refreshed and answers the client. */
  private revalidated(ctx: RequestContext, st: CacheRequestState, stale: CacheEntry, origin: readonly string[], now: number): LocalResponse {
    const core = this.core;
    core.counters.results[REVALIDATED]++;
    const merged = mergeNotModified(stale.headers, origin);
    const plan = planStore(stale.status, merged, { requestTime: st.requestTime, responseTime: now, authorized: st.authorized }, core.settings);
    if (typeof plan === 'string') {
      // Still valid for this request, but no longer to be stored.
      core.delete(st.key);
      core.settle(st, null, false);
      return core.answer(ctx, stale, now, 'HIT', st.ifNoneMatch, st.ifModifiedSince);
    }
    const varyValues = plan.varyNames === null ? '' : varyKey(plan.varyNames, contextLookup(ctx));
    const entry = core.storeEntry(st.key, stale.path, stale.status, plan, stale.body, varyValues, st.generation, st.marker ?? stale.varyRef);
    core.settle(st, entry, false);
    return core.answer(ctx, entry, now, 'HIT', st.ifNoneMatch, st.ifModifiedSince);
  }
}

