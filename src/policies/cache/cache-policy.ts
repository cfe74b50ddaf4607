/**
 * The cache policy instance. The access phase looks the request up and
 * answers hits itself (a LocalResponse holding the stored body Buffer: no
 * copy per hit); a request that must go upstream leads a fill (coalescing,
 * fills.ts) or waits for the one in progress. The responseHead phase
 * (response-stage.ts) decides what to store and taps the body as it streams.
 *
 * Hit path: one pass over the request headers, one key string, one Map
 * lookup (two for a varied entry), an answer object reused per Age second.
 */
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../ingress/request-context.js';
import type { PhaseResult, PolicyInstance, ResponseHead, Verdict } from '../types.js';
import { CacheCore } from './cache-core.js';
import { CacheEntry, VaryMarker, type StoredRecord, type VaryRef } from './cache-entry.js';
import { Directives, parseCacheControl } from './cache-control.js';
import { contextLookup, variantKey, varyKey } from './cache-key.js';
import type { Fill } from './fills.js';
import { BYPASS, COALESCED, HIT, MISS, STALE } from './metrics.js';
import type { Refresher } from './refresher.js';
import { CacheRequestState, PHASE_BYPASS, PHASE_DONE, PHASE_FILL, PHASE_INVALIDATE, PHASE_SERVED } from './request-state.js';
import { ResponseStage } from './response-stage.js';

const ERR_NOT_CACHED = new GatewayError(ErrorCodes.NOT_CACHED, 'The request said only-if-cached and no fresh response is stored');

/** What the access phase read from the request, for the steps after a (possibly asynchronous) lookup. */
interface Lookup {
  readonly key: string;
  readonly now: number;
  readonly req: Directives | null;
  readonly ifNoneMatch: string;
  readonly ifModifiedSince: string;
  readonly authorized: boolean;
}

/** One configured cache policy (see README, "Response cache"). */
export class CachePolicy implements PolicyInstance {
  readonly name: string;
  private readonly stage: ResponseStage;
  /** Shared states of requests that need none of their own (no allocation). */
  private readonly bypassState: CacheRequestState;
  private readonly servedState: CacheRequestState;

  constructor(name: string, readonly core: CacheCore, private readonly refresher: Refresher | null) {
    this.name = name;
    this.stage = new ResponseStage(core);
    this.bypassState = new CacheRequestState(this, PHASE_BYPASS);
    this.servedState = new CacheRequestState(this, PHASE_SERVED);
  }

  access(ctx: RequestContext): PhaseResult {
    // A second cache policy on the same route leaves the request to the first.
    if (ctx.cache !== null) return undefined;
    const s = this.core.settings;
    const method = ctx.method;
    const isHead = method === 'HEAD';
    if (!isHead && method !== 'GET') return this.otherMethod(ctx, method);
    // Not considered at all: transcoded (gRPC) routes have no upstream body to
    // store. (On a route with responseBody policies the cache stores the
    // upstream's response and hits go through the body phase: see
    // LocalResponse.bodyPhase.)
    if ((isHead ? !s.head : !s.get) || (ctx.route !== null && ctx.route.transcode !== undefined)) return this.bypass(ctx);
    // why: one pass with a length switch reads every field the cache needs,
    // instead of a linear search per field.
    const names = ctx.headerNames;
    const values = ctx.headerValues;
    let authorized = false;
    let skip = false;
    let cc = '';
    let pragma = '';
    let inm = '';
    let ims = '';
    for (let i = 0; i < names.length; i++) {
      const n = names[i];
      switch (n.length) {
        case 5: if (n === 'range') skip = true; break;
        case 6: if (n === 'pragma') pragma = values[i]; break;
        case 7: if (n === 'upgrade') skip = true; break;
        case 13:
          if (n === 'authorization') authorized = true;
          else if (n === 'cache-control') cc = cc === '' ? values[i] : cc + ', ' + values[i];
          else if (n === 'if-none-match') inm = inm === '' ? values[i] : inm + ', ' + values[i];
          break;
        case 17: if (n === 'if-modified-since' && ims === '') ims = values[i]; break;
        default: break;
      }
    }
    if (skip || (authorized && !s.cacheAuthorized)) return this.bypass(ctx);
    let req: Directives | null = null;
    if (!s.ignoreRequestCacheControl && (cc !== '' || pragma !== '')) {
      req = parseCacheControl(cc);
      // Pragma: no-cache counts only without Cache-Control (RFC 9111 §5.4).
      if (cc === '' && /(?:^|[\s,])no-cache(?:$|[\s,=])/i.test(pragma)) req.noCache = true;
      if (req.noStore) return this.bypass(ctx);
    }
    const key = this.core.key.build(ctx);
    const now = this.core.now();
    const found = this.core.store.get(key, now);
    if (found instanceof Promise) {
      const l: Lookup = { key, now, req, ifNoneMatch: inm, ifModifiedSince: ims, authorized };
      return found.then((r) => this.found(ctx, l, r), () => this.found(ctx, l, undefined));
    }
    if (found === undefined) return this.decide(ctx, key, undefined, now, req, inm, ims, authorized, null);
    if (found instanceof CacheEntry) return this.decide(ctx, key, found, now, req, inm, ims, authorized, null);
    return this.found(ctx, { key, now, req, ifNoneMatch: inm, ifModifiedSince: ims, authorized }, found);
  }

  /** After a lookup: an entry, a Vary marker (look the variant up), or nothing. */
  private found(ctx: RequestContext, l: Lookup, r: StoredRecord | undefined): PhaseResult {
    if (!(r instanceof VaryMarker)) return this.decide(ctx, l.key, r as CacheEntry | undefined, l.now, l.req, l.ifNoneMatch, l.ifModifiedSince, l.authorized, null);
    const variant = this.core.store.get(variantKey(l.key, r.epoch, varyKey(r.names, contextLookup(ctx))), l.now);
    const pick = (v: StoredRecord | undefined): PhaseResult =>
      this.decide(ctx, l.key, v instanceof CacheEntry ? v : undefined, l.now, l.req, l.ifNoneMatch, l.ifModifiedSince, l.authorized, r);
    return variant instanceof Promise ? variant.then(pick, () => pick(undefined)) : pick(variant);
  }

  /** Fresh → HIT; stale within stale-while-revalidate → STALE (and a background refresh); else upstream. */
  private decide(
    ctx: RequestContext, key: string, entry: CacheEntry | undefined, now: number, req: Directives | null,
    inm: string, ims: string, authorized: boolean, marker: VaryRef | null,
  ): PhaseResult {
    if (ctx.aborted || ctx.finished) return undefined;
    if (entry !== undefined) {
      const t = entry.times;
      if (now < t.freshUntil && !t.noCache && (req === null || acceptsFresh(req, entry, now))) {
        this.core.counters.results[HIT]++;
        ctx.cache = this.servedState;
        return this.core.answer(ctx, entry, now, 'HIT', inm, ims);
      }
      // An aggregate route has no single request to repeat in the background:
      // a stale entry there is refilled by the client's request.
      if (now < t.freshUntil + t.swrMs && !t.noCache && !t.mustRevalidate && (req === null || acceptsStale(req)) && ctx.route!.aggregate === undefined) {
        if (this.refresher !== null) this.refresher.refresh(ctx, key, entry, authorized);
        this.core.counters.results[STALE]++;
        ctx.cache = this.servedState;
        return this.core.answer(ctx, entry, now, 'STALE', inm, ims);
      }
    }
    if (req !== null && req.onlyIfCached) {
      ctx.cache = this.servedState;
      this.core.counters.results[BYPASS]++;
      ctx.cacheStatus = 'BYPASS';
      return ERR_NOT_CACHED;
    }
    const fill = this.core.fills.get(key);
    if (fill !== undefined) return this.waitFor(ctx, fill, key, inm, ims, authorized);
    const st = this.fillState(ctx, key, now, authorized);
    st.stale = entry ?? null;
    st.marker = marker;
    if (ctx.method === 'HEAD') return undefined; // a HEAD response has no body to store
    st.fill = this.core.fills.start(key, CacheCore.waitMs(ctx.route === null ? 0 : ctx.route.timeout.requestMs));
    // The cache fills with a full response and answers the client's conditionals itself.
    if (inm !== '' || ims !== '') {
      st.ifNoneMatch = inm;
      st.ifModifiedSince = ims;
      ctx.removeHeader('if-none-match');
      ctx.removeHeader('if-modified-since');
    }
    if (entry !== undefined && entry.revalidatable) {
      if (entry.times.etag !== '') ctx.setHeader('if-none-match', entry.times.etag);
      if (entry.times.lastModified !== '') ctx.setHeader('if-modified-since', entry.times.lastModified);
      st.revalidating = true;
    }
    return undefined;
  }

  /** Waits for the fill in progress; answered from its entry, or sent upstream (hit-for-pass). */
  private waitFor(ctx: RequestContext, fill: Fill, key: string, inm: string, ims: string, authorized: boolean): Promise<Verdict> {
    return new Promise<Verdict>((resolve) => {
      this.core.fills.wait(fill, (entry, stale) => {
        if (ctx.aborted || ctx.finished) { resolve(undefined); return; }
        const now = this.core.now();
        if (entry !== null && (entry.varyNames === null || varyKey(entry.varyNames, contextLookup(ctx)) === entry.varyValues)) {
          this.core.counters.results[stale ? STALE : COALESCED]++;
          ctx.cache = this.servedState;
          resolve(this.core.answer(ctx, entry, now, stale ? 'STALE' : 'HIT', inm, ims));
          return;
        }
        // Sent upstream: a variant it stores joins the leader's marker.
        this.fillState(ctx, key, now, authorized).marker = entry === null ? null : entry.varyRef;
        resolve(undefined);
      });
    });
  }

  /** The state of a request going upstream (it may store the response). */
  private fillState(ctx: RequestContext, key: string, now: number, authorized: boolean): CacheRequestState {
    const st = new CacheRequestState(this, PHASE_FILL);
    st.key = key;
    st.requestTime = now;
    st.authorized = authorized;
    st.generation = this.core.generation;
    ctx.cache = st;
    return st;
  }

  private bypass(ctx: RequestContext): undefined {
    this.core.counters.results[BYPASS]++;
    ctx.cache = this.bypassState;
    return undefined;
  }

  /** Other methods bypass; an unsafe one invalidates the target's GET entry once it succeeds (RFC 9111 §4.4). */
  private otherMethod(ctx: RequestContext, method: string): undefined {
    if (method === 'OPTIONS' || method === 'TRACE') return this.bypass(ctx);
    this.core.counters.results[BYPASS]++;
    const st = new CacheRequestState(this, PHASE_INVALIDATE);
    st.key = this.core.key.build(ctx, 'GET');
    ctx.cache = st;
    return undefined;
  }

  responseHead(ctx: RequestContext, head: ResponseHead): Verdict {
    const st = ctx.cache;
    if (st === null || st.owner !== this) return undefined;
    return this.stage.head(ctx, st, head);
  }

  onLog(ctx: RequestContext): void {
    const st = ctx.cache;
    if (st === null || st.owner !== this || st.phase !== PHASE_FILL) return;
    // The request ended before a response head reached the cache (the client went away).
    st.phase = PHASE_DONE;
    this.core.counters.results[MISS]++;
    this.core.settle(st, null, false);
  }
}

/** The client's Cache-Control allows this fresh entry (no-cache, max-age, min-fresh). */
function acceptsFresh(req: Directives, entry: CacheEntry, now: number): boolean {
  if (req.noCache) return false;
  // why: compared in ms, so max-age=0 (a browser reload) revalidates even an entry stored this second.
  if (req.maxAge >= 0 && entry.times.initialAgeMs + now - entry.times.responseTime > req.maxAge * 1000) return false;
  return req.minFresh < 0 || entry.times.freshUntil - now >= req.minFresh * 1000;
}

/** The client's Cache-Control allows a stale answer (none of no-cache, max-age, min-fresh). */
function acceptsStale(req: Directives): boolean {
  return !req.noCache && req.maxAge < 0 && req.minFresh < 0;
}
