import type { Readable } from 'node:stream';
import type { RequestContext } from '../ingress/request-context.js';
import type { CompiledRoute } from '../router/compiled-route.js';
import type { DeadlineEntry } from './deadline-wheel.js';
import type { Target } from './target.js';
import type { UpstreamGroup } from './upstream-group.js';
import type { ProxyExchange } from './proxy-exchange.js';
import type { RetryState } from './retry/retry-state.js';
import { NO_SLOT, type LimiterWaiter, type LimitState } from './resilience/concurrency-limiter.js';

/** Who handles a call's deadline and its queue handoff (the dispatcher). */
export interface DeadlineOwner {
  deadline(call: UpstreamCall): void;
  /** The call waited for a concurrency slot and now holds one. */
  slotGranted(call: UpstreamCall): void;
}

/**
 * The upstream half of one request: which group and target it went to, the
 * exchange streaming the response, and its deadline (an entry of the
 * worker's deadline wheel, see deadline-wheel.ts).
 */
export class UpstreamCall implements DeadlineEntry, LimiterWaiter {
  readonly route: CompiledRoute;
  readonly group: UpstreamGroup;
  target: Target | null = null;
  exchange: ProxyExchange | null = null;
  /** Path (with query) sent upstream. */
  readonly path: string;
  /** Flat header list sent upstream. */
  readonly headers: string[];
  /** null (no body), a whole Buffer, or a stream (not retryable). */
  body: Buffer | Readable | null = null;
  /** performance.now() at the first dispatch: the whole-request deadline counts from here. */
  startMs = 0;
  /** performance.now() at the current attempt's dispatch (startMs for the first). */
  attemptMs = 0;
  /** True while inside pool.dispatch() (a request written synchronously is sent at attemptMs). */
  dispatching = false;
  /** Whether the scheduled deadline is the headers limit (else the whole-request one). */
  headersDeadline = false;
  /**
   * Whether the scheduled deadline is the upload-stall check of a streamed
   * request body (see UpstreamDispatcher.deadline), and the body's pull count
   * when it was scheduled.
   */
  uploadDeadline = false;
  uploadPulls = 0;
  /** The request this call belongs to and the dispatcher handling its deadline (set by start). */
  ctx: RequestContext | null = null;
  owner: DeadlineOwner | null = null;
  /** Deadline wheel links (owned by the wheel). */
  dlNext: DeadlineEntry | null = null;
  dlPrev: DeadlineEntry | null = null;
  dlTick = -1;
  attempts = 0;
  /** Key for `hash` balancing ('' for other balancers), kept for a retry. */
  hashKey = '';
  /** Targets already tried (for a retry on another one). */
  triedTarget: Target | null = null;
  /**
   * Retry state: set by the proxy terminal on routes with `retry`, by the
   * dispatcher when a route without one retries a connect failure; else null.
   */
  retry: RetryState | null = null;
  /**
   * The circuit-breaker epoch of the attempt in flight (its admission), -1
   * when its outcome was recorded or there is no breaker: each attempt
   * records exactly one outcome or cancels.
   */
  cbEpoch = -1;
  /** Concurrency-limiter links and state (owned by the limiter); the slot belongs to the call, across its attempts. */
  qNext: LimiterWaiter | null = null;
  qPrev: LimiterWaiter | null = null;
  limitState: LimitState = NO_SLOT;

  constructor(route: CompiledRoute, group: UpstreamGroup, path: string, headers: string[]) {
    this.route = route;
    this.group = group;
    this.path = path;
    this.headers = headers;
  }

  /** DeadlineEntry: the scheduled deadline passed. */
  onDeadline(): void {
    if (this.owner !== null) this.owner.deadline(this);
  }

  /** LimiterWaiter: a slot was handed over from the queue. */
  slotGranted(): void {
    if (this.owner !== null) this.owner.slotGranted(this);
  }
}
