/**
 * One request of the worker's own (UpstreamClient.fetch): admission to the
 * upstream's concurrency limit, each try through the circuit breaker, the
 * retries of its policy within the upstream's retry budget, and the whole
 * response collected through undici's dispatch handler interface (no
 * response stream, no per-chunk promise). The call's timeout and the
 * caller's signal abort the try in flight.
 */
import type { Dispatcher, Pool } from 'undici';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import { failureKind, mapUpstreamError } from '../errors/map-error.js';
import { noTargetError } from './no-target.js';
import { FetchGuard } from './resilience/fetch-guard.js';
import { backoffDelay, retryRandom } from './retry/backoff.js';
import { failureReason, reasonLabel, takeRetryBudget } from './retry/retry-decision.js';
import type { UpstreamObserver } from './dispatcher.js';
import { RetryReason, retriesMethod, retriesStatus, type RetryPolicy } from './retry/retry-policy.js';
import type { Target } from './target.js';
import { FetchExchange } from './fetch-exchange.js';
import type { UpstreamFetchOptions, UpstreamFetchRequest, UpstreamReply } from './upstream-client.js';
import type { UpstreamGroup } from './upstream-group.js';

const DEFAULT_MAX_BODY = 8 * 1024 * 1024;

/** The call's timeout expired (mapped to 504 `upstream_timeout`). */
export class FetchTimeoutError extends Error {
  readonly code = 'TURNPIKE_REQUEST_TIMEOUT';
  constructor(ms: number) { super('upstream call took longer than ' + ms + ' ms'); }
}

/** A try that failed in a way its retry policy retries (a retry budget slot is taken for it). */
class RetryableFailure {
  constructor(readonly error: GatewayError) {}
}

/** Runs one call; see the file comment. */
export class FetchCall {
  /** Why the call was abandoned (its timeout or the caller's signal), else null. */
  reason: unknown = null;
  private timer: NodeJS.Timeout | null = null;
  private exchange: FetchExchange | null = null;
  private guard: FetchGuard | null = null;
  private onOuter: (() => void) | null = null;
  /** The call's outcome (set by UpstreamClient.start). */
  done: Promise<UpstreamReply> | null = null;

  /** The whole call's bound, ms. */
  readonly timeoutMs: number;

  /** @param group the upstream's group (null: unknown upstream; such a call is never run) */
  constructor(private readonly group: UpstreamGroup | null, private readonly req: UpstreamFetchRequest, private readonly opts: UpstreamFetchOptions,
    private readonly observer: UpstreamObserver | null = null) {
    this.timeoutMs = opts.timeoutMs;
  }

  async run(): Promise<UpstreamReply> {
    const opts = this.opts;
    const group = this.group!;
    if (opts.timeoutMs > 0) this.timer = setTimeout(timedOut, opts.timeoutMs, this);
    const outer = opts.signal;
    if (outer !== undefined) {
      if (outer.aborted) this.abort(outer.reason);
      else {
        this.onOuter = () => this.abort(outer.reason);
        outer.addEventListener('abort', this.onOuter, { once: true });
      }
    }
    try {
      // why: an upstream without `limits` pays one null check for the guard.
      if (group.limiter !== null && this.reason === null) {
        const guard = new FetchGuard(group);
        this.guard = guard;
        const admitted = guard.admit();
        const refusal = admitted instanceof Promise ? await admitted : admitted;
        if (refusal !== null) throw refusal;
      }
      if (this.reason !== null) throw this.failure(this.reason);
      return await this.attempts();
    } finally {
      if (this.timer !== null) clearTimeout(this.timer);
      if (this.onOuter !== null) outer!.removeEventListener('abort', this.onOuter);
      this.guard?.release();
    }
  }

  /** Abandons the call: a queued admission ends, the try in flight is aborted. Idempotent. */
  abort(reason: unknown): void {
    if (this.reason !== null) return;
    this.reason = reason ?? new Error('aborted');
    this.guard?.release();
    this.exchange?.abort(this.reason);
  }

  /** What an abandoned call rejects with: the caller's own GatewayError, else the mapped reason. */
  private failure(reason: unknown): GatewayError {
    return reason instanceof GatewayError ? reason : mapUpstreamError(reason);
  }

  /** The tries: the first, then those its policy, its method and the upstream's retry budget allow. */
  private async attempts(): Promise<UpstreamReply> {
    const req = this.req;
    const group = this.group!;
    const policy = this.opts.retry ?? null;
    const hashKey = req.hashKey ?? '';
    let tried: Target<Pool> | null = null;
    let retries = 0;
    let lastError: GatewayError | null = null;
    for (;;) {
      let target = group.pick(hashKey);
      // A retry goes to another target when the balancer offers one within a few picks.
      for (let i = 1; tried !== null && target === tried && i < group.targets.length; i++) target = group.pick(hashKey);
      if (target === null || (tried !== null && target === tried && policy !== null && policy.legacy)) {
        if (lastError !== null) throw lastError;
        throw noTargetError(group);
      }
      const breaker = group.breaker;
      const epoch = breaker === null ? 0 : breaker.admit();
      if (epoch < 0) throw lastError ?? breaker!.error;
      tried = target;
      const budgeted = retries > 0;
      let r: UpstreamReply | RetryableFailure;
      try {
        r = await this.attempt(target, epoch, policy !== null && retries < policy.retries ? policy : null);
      } finally {
        if (budgeted) group.retryBudget.release();
      }
      if (!(r instanceof RetryableFailure)) return r;
      // The try took a retry budget slot: it is held through the backoff until the retry's try ends.
      lastError = r.error;
      retries++;
      const wait = backoffDelay(policy!.baseMs, policy!.maxMs, retries, retryRandom());
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      if (this.reason !== null) { group.retryBudget.release(); throw this.failure(this.reason); }
    }
  }

  /** One try on `target`: the reply, a RetryableFailure when `retry` retries what happened (budget slot taken), else it throws. */
  private async attempt(target: Target<Pool>, epoch: number, retry: RetryPolicy | null): Promise<UpstreamReply | RetryableFailure> {
    const req = this.req;
    const group = this.group!;
    const breaker = group.breaker;
    const ex = new FetchExchange(this.opts.maxBodyBytes ?? DEFAULT_MAX_BODY);
    this.exchange = ex;
    const perTryMs = this.opts.retry?.perTryMs ?? 0;
    if (perTryMs > 0) ex.armPerTry(perTryMs);
    group.onStart(target);
    try {
      const options: Dispatcher.DispatchOptions & { servername: string } = {
        path: req.path,
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers === undefined ? [] : req.headers as string[],
        body: req.body ?? null,
        // why: the call's timer bounds the whole call; undici's coarse timers are off (as on the proxy path).
        headersTimeout: 0,
        bodyTimeout: 0,
        servername: target.servername,
      };
      target.pool.dispatch(options, ex);
      if (this.reason !== null) ex.abort(this.reason);
      const reply = await ex.done;
      group.reportSuccess(target, reply.status);
      if (breaker !== null) breaker.recordStatus(epoch, reply.status);
      const observer = this.observer;
      if (reply.status >= 500 && observer !== null) observer.upstreamError(group.name, '5xx');
      if (retry !== null && retriesStatus(retry, reply.status) && retriesMethod(retry, req.method) && takeRetryBudget(this.group!, this.observer, String(reply.status))) {
        return new RetryableFailure(new GatewayError(ErrorCodes.UPSTREAM_BAD_RESPONSE, 'The upstream answered ' + reply.status));
      }
      return reply;
    } catch (err) {
      if (err instanceof GatewayError) throw err;
      const responded = ex.status > 0;
      const timedOut = this.reason instanceof FetchTimeoutError;
      const cause = this.reason !== null ? this.reason : err;
      const kind = failureKind(cause);
      if (responded) {
        group.reportSuccess(target, ex.status);
        if (breaker !== null) breaker.recordStatus(epoch, ex.status);
      } else {
        if (kind === 'connect' || kind === 'tls' || kind === 'timeout') group.reportFailure(target, kind);
        // The caller abandoning the call says nothing about the upstream: a probe gives its place back.
        if (breaker !== null) {
          if (this.reason !== null && !timedOut) breaker.cancel(epoch);
          else breaker.recordError(epoch, kind);
        }
        if (this.observer !== null && (this.reason === null || timedOut)) this.observer.upstreamError(group.name, kind);
      }
      if (ex.tooLarge) throw new GatewayError(ErrorCodes.UPSTREAM_RESPONSE_TOO_LARGE, 'The upstream response is larger than ' + ex.max + ' bytes');
      const mapped = this.reason !== null ? this.failure(cause) : mapUpstreamError(cause);
      if (retry !== null && this.reason === null) {
        const reason = failureReason(cause, responded);
        if ((reason & retry.reasons) !== 0 && (reason === RetryReason.Connect || retriesMethod(retry, req.method)) && takeRetryBudget(this.group!, this.observer, reasonLabel(reason))) {
          return new RetryableFailure(mapped);
        }
      }
      throw mapped;
    } finally {
      ex.disarm();
      this.exchange = null;
      group.onFinish(target);
    }
  }
}

function timedOut(call: FetchCall): void {
  call.abort(new FetchTimeoutError(call.timeoutMs));
}

