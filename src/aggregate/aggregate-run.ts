/**
 * One aggregated request: starts the calls without dependencies at once,
 * each dependent as soon as the calls it waits for have settled, and
 * answers when every call settled (200 JSON built per `merge`), when a
 * required call failed (502 `aggregate_call_failed`, 404
 * `aggregate_not_found` for a 404), or when the aggregate's timeout expired
 * (504 `aggregate_timeout` naming the pending calls). Whatever ends it
 * aborts the calls still in flight; so does the client leaving.
 */
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import { cutConnection, markFinished, ownHead, type ResponseWriter } from '../response/response-writer.js';
import type { ResponseHead, Verdict } from '../policies/types.js';
import { deferWrite, type BatchedWrite } from '../response/write-batch.js';
import { keyValue } from '../forwarding/key-spec.js';
import type { FetchCall, UpstreamClient, UpstreamReply } from '../upstream/upstream-client.js';
import * as M from './aggregate-metrics.js';
import type { AggregatePlan, CallPlan } from './aggregate-plan.js';
import { LITERAL, PARAM, fieldAt } from './path-template.js';
import { answerThroughPolicies } from './aggregate-answer.js';
import { NOT_SENT, decoded, identityOnly, withHeaders } from './call-io.js';

/** What the run reports back to the request handler. */
export interface AggregateSink {
  problem(ctx: RequestContext, err: GatewayError, allow: string | null, close: boolean): void;
  answer(ctx: RequestContext, verdict: Exclude<Verdict, undefined>, close: boolean): void;
  policyError(name: string, err: unknown): void;
  complete(ctx: RequestContext): void;
  closeAfter(ctx: RequestContext): boolean;
  readonly writer: ResponseWriter;
}

/** Call states (0: waiting for its dependencies). */
const RUNNING = 1;
const DONE = 2;
const FAILED = 3;

/** Why an aggregate's calls in flight were aborted (the run ended first; never shown to a client). */
const ABANDONED = new GatewayError(ErrorCodes.AGGREGATE_TIMEOUT, 'the aggregate ended first');

/** A call that failed, with what to tell the client. */
class CallFailure {
  constructor(readonly outcome: number, readonly detail: string, readonly status: number, readonly code: string) {}
}

/** See the file comment. One per aggregated request. */
export class AggregateRun implements BatchedWrite {
  private readonly values: unknown[];
  /** The answer waiting for the batched write. */
  private outHead: ResponseHead | null = null;
  private outBody = '';
  private readonly state: Uint8Array;
  /** Per call: dependencies not settled yet. */
  private readonly waiting: Int32Array;
  /** Per call: its upstream call while running (aborted when the run ends early). */
  private readonly running: Array<FetchCall | null>;
  private timer: NodeJS.Timeout | null = null;
  private settled = 0;
  /** Optional calls that failed so far. */
  private partials = 0;
  private over = false;
  private readonly startMs = performance.now();
  /** The forwarded request headers (computed once, shared by the calls). */
  private readonly headers: string[];

  constructor(
    private readonly ctx: RequestContext, private readonly plan: AggregatePlan,
    private readonly client: UpstreamClient, private readonly sink: AggregateSink,
  ) {
    const n = plan.calls.length;
    this.values = new Array<unknown>(n).fill(null);
    this.state = new Uint8Array(n);
    this.waiting = new Int32Array(n);
    this.running = new Array<FetchCall | null>(n).fill(null);
    for (let i = 0; i < n; i++) this.waiting[i] = plan.calls[i].deps.length;
    // why: one pass over the client's headers per request, shared by every call (copied only for a call with headers of its own).
    this.headers = plan.forwardHeaders ? client.forwardedHeaders(ctx, NOT_SENT) : identityOnly(client.forwardedHeaders(ctx, NOT_SENT));
  }

  /** Starts the independent calls and the aggregate's timer. */
  begin(): void {
    this.ctx.abortHook = () => this.end(M.R_ABORTED);
    this.timer = setTimeout(runTimedOut, this.plan.timeoutMs, this);
    const roots = this.plan.roots;
    for (let i = 0; i < roots.length && !this.over; i++) this.launch(roots[i]);
  }

  private launch(i: number): void {
    const call = this.plan.calls[i];
    const path = this.render(call);
    if (path === null) return this.settle(i, new CallFailure(M.INVALID, 'a value its path needs is missing from an earlier call', 0, ''));
    this.state[i] = RUNNING;
    const left = this.plan.timeoutMs - (performance.now() - this.startMs);
    // why: a call bounded only by the aggregate needs no timer of its own: the aggregate's aborts it.
    const timeoutMs = call.timeoutMs > 0 && call.timeoutMs < left ? Math.max(1, Math.ceil(call.timeoutMs)) : 0;
    const headers = call.headers.length === 0 ? this.headers : withHeaders(this.headers, call.headers);
    const hashKey = call.hashOn === null ? '' : keyValue(this.ctx, call.hashOn) ?? '';
    // why: two closures per call (the promise reactions) are the whole per-call allocation besides the request itself.
    const fc = this.client.start(call.upstream, { method: call.method, path, headers, hashKey }, { timeoutMs, retry: call.retry });
    this.running[i] = fc;
    fc.done!.then((reply) => this.guarded(i, reply, null), (err: unknown) => this.guarded(i, null, err));
  }

  /** A call's outcome; a gateway bug while handling it answers 500 instead of escaping as an unhandled rejection. */
  private guarded(i: number, reply: UpstreamReply | null, err: unknown): void {
    try {
      if (reply !== null) this.replied(i, reply);
      else this.failed(i, err);
    } catch (bug) {
      if (this.over) return;
      this.end(M.R_FAILED);
      this.sink.problem(this.ctx, new GatewayError(ErrorCodes.INTERNAL, undefined, { cause: bug }), null, false);
    }
  }

  /** The call's path with its captures and references substituted (URL-encoded); null when a reference has no scalar value. */
  private render(call: CallPlan): string | null {
    try {
      return this.renderPieces(call);
    } catch {
      // encodeURIComponent throws on a lone surrogate (a JSON string may hold one): no usable value.
      return null;
    }
  }

  private renderPieces(call: CallPlan): string | null {
    let out = '';
    const pieces = call.pieces;
    for (let k = 0; k < pieces.length; k++) {
      const p = pieces[k];
      if (p.kind === LITERAL) out += p.text;
      else if (p.kind === PARAM) out += encodeURIComponent(this.ctx.params[p.index] ?? '');
      else {
        const v = fieldAt(this.values[p.index], p.path);
        if (typeof v === 'string') out += encodeURIComponent(v);
        else if (typeof v === 'number' || typeof v === 'boolean') out += String(v);
        else return null;
      }
    }
    return out;
  }

  private replied(i: number, reply: UpstreamReply): void {
    if (this.over) return;
    const s = reply.status;
    if (s < 200 || s > 299) {
      return this.settle(i, new CallFailure(M.STATUS, 'the upstream answered ' + s, s, ''));
    }
    let value: unknown = null;
    if (reply.body.length > 0 && s !== 204) {
      try {
        value = JSON.parse(decoded(reply).toString('utf8'));
      } catch {
        return this.settle(i, new CallFailure(M.INVALID, 'the upstream answer is not JSON', s, ''));
      }
    }
    this.values[i] = value;
    this.settle(i, null);
  }

  private failed(i: number, err: unknown): void {
    if (this.over) return;
    const e = err instanceof GatewayError ? err : new GatewayError(ErrorCodes.INTERNAL, undefined, { cause: err });
    const outcome = e.code === ErrorCodes.UPSTREAM_TIMEOUT.code ? M.TIMEOUT : M.ERROR;
    this.settle(i, new CallFailure(outcome, e.detail ?? e.title, 0, e.code));
  }

  /** A call settled (failure null: it succeeded); starts what waited for it, answers when it was the last. */
  private settle(i: number, failure: CallFailure | null): void {
    const call = this.plan.calls[i];
    call.series.outcomes[failure === null ? M.OK : failure.outcome]++;
    this.state[i] = failure === null ? DONE : FAILED;
    this.running[i] = null;
    if (failure !== null) {
      if (!call.optional || this.plan.failOnPartial) return this.fail(call, failure);
      this.partials++;
    }
    this.settled++;
    const dependents = call.dependents;
    for (let k = 0; k < dependents.length && !this.over; k++) {
      const d = dependents[k];
      if (--this.waiting[d] === 0) this.launch(d);
    }
    if (this.settled === this.plan.calls.length && !this.over) this.succeed();
  }

  private fail(call: CallPlan, f: CallFailure): void {
    const notFound = f.status === 404;
    const err = new GatewayError(notFound ? ErrorCodes.AGGREGATE_NOT_FOUND : ErrorCodes.AGGREGATE_CALL_FAILED,
      'Call "' + call.name + '" ' + (notFound ? 'found nothing' : 'failed') + ': ' + f.detail);
    err.extraMembers = ',"call":' + JSON.stringify(call.name)
      + (f.status > 0 ? ',"callStatus":' + f.status : '') + (f.code !== '' ? ',"callError":' + JSON.stringify(f.code) : '');
    this.end(M.R_FAILED);
    this.sink.problem(this.ctx, err, null, false);
  }

  /** The aggregate's timer fired. */
  timedOut(): void {
    this.timer = null;
    if (this.over) return;
    const pending: string[] = [];
    for (let i = 0; i < this.state.length; i++) if (this.state[i] <= RUNNING) pending.push(this.plan.calls[i].name);
    const err = new GatewayError(ErrorCodes.AGGREGATE_TIMEOUT,
      'The aggregate took longer than ' + this.plan.timeoutMs + ' ms; pending: ' + pending.join(', '));
    err.extraMembers = ',"pending":' + JSON.stringify(pending);
    this.end(M.R_TIMEOUT);
    this.sink.problem(this.ctx, err, null, false);
  }

  /** Ends the run: no more calls start, those in flight are aborted (counted as cancelled). Idempotent. */
  private end(result: number): void {
    if (this.over) return;
    this.over = true;
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    this.ctx.abortHook = null;
    for (let i = 0; i < this.state.length; i++) {
      if (this.state[i] !== RUNNING) continue;
      this.plan.calls[i].series.outcomes[M.CANCELLED]++;
      this.running[i]?.abort(ABANDONED);
    }
    this.plan.durations[result].observe((performance.now() - this.startMs) / 1000);
  }

  /** Every call settled: the merged document. */
  private succeed(): void {
    this.end(this.partials === 0 ? M.R_OK : M.R_PARTIAL);
    const ctx = this.ctx;
    if (ctx.aborted || ctx.finished) return;
    const p = this.plan;
    let body = '{';
    for (let k = 0; k < p.mergeKeys.length; k++) {
      const c = p.mergeCalls[k];
      const v = c < 0 ? undefined : fieldAt(this.values[c], p.mergePaths[k]);
      body += (k === 0 ? '' : ',') + p.mergeKeys[k] + (v === undefined ? 'null' : JSON.stringify(v));
    }
    body += '}';
    const own = ['content-type', 'application/json'];
    if (this.partials > 0) own.push('x-partial', this.failedNames());
    const chain = ctx.chain;
    if (chain !== null && (chain.responseHead !== null || chain.responseBody !== null)) {
      void answerThroughPolicies(ctx, this.sink, body, own);
      return;
    }
    this.outHead = ownHead(ctx, 200, own);
    this.outBody = body;
    // why: sent with the other responses of this loop turn (see write-batch.ts).
    deferWrite(this);
  }

  /** BatchedWrite: writes the merged answer, unless the client left or was answered meanwhile. */
  flushWrite(): void {
    const ctx = this.ctx;
    if (ctx.aborted || ctx.finished) return;
    corked.run = this;
    corked.close = this.sink.closeAfter(ctx);
    try {
      ctx.res.cork(writeCorked);
    } catch {
      // Never expected (uWS throws only for a response it no longer owns): the connection cannot be trusted, cut it.
      corked.run = null;
      if (!ctx.finished) cutConnection(ctx);
      this.sink.complete(ctx);
      return;
    }
    corked.run = null;
    this.finish(200);
  }

  /** Inside cork: the 200 head and the merged body. */
  writeNow(close: boolean): void {
    this.sink.writer.endWith(this.ctx, this.outHead!, this.outBody, close);
  }

  /** The failed optional calls, comma-separated in config order (x-partial). */
  private failedNames(): string {
    let out = '';
    for (let i = 0; i < this.state.length; i++) if (this.state[i] === FAILED) out += (out === '' ? '' : ',') + this.plan.calls[i].name;
    return out;
  }

  private finish(status: number): void {
    this.ctx.status = status;
    markFinished(this.ctx);
    this.sink.complete(this.ctx);
  }
}

// why: res.cork takes a callback; a module-level function reading these avoids a closure per answer (cork runs it synchronously).
const corked = { run: null as AggregateRun | null, close: false };
function writeCorked(): void {
  corked.run!.writeNow(corked.close);
}

// why: setTimeout's extra argument instead of a closure per request.
function runTimedOut(run: AggregateRun): void {
  run.timedOut();
}
