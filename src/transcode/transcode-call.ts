/**
 * One transcoded request: body → request message → gRPC call → JSON answer
 * (or an NDJSON / JSON-array stream for server-streaming methods).
 * Everything after the first await re-checks `ctx.aborted` before touching
 * the uWS response (uWS forbids using an aborted response).
 */
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import { noTargetError } from '../upstream/no-target.js';
import type { RequestContext } from '../ingress/request-context.js';
import type { CompiledRoute } from '../router/index.js';
import { markFinished, ownHead, writeHead, type ResponseWriter } from '../response/response-writer.js';
import { runResponseHead } from '../policies/run-phases.js';
import { runWholeBody } from '../policies/body-gate.js';
import type { BufferedResponse, Verdict } from '../policies/types.js';
import type { Target } from '../upstream/target.js';
import type { GrpcChannel, GrpcResult, GrpcStatus } from './grpc-client/index.js';
import { hashKeyOf, mayRetryElsewhere, reportGrpcOutcome } from './grpc-upstream.js';
import { callProblem, grpcProblem, requestMetadata, requestObject, responseField, responseMetadata, type TranscodeEntry } from './transcoder.js';
import type { HttpBinding } from './http-rule/index.js';
import { GrpcCallGuard } from './grpc-call-guard.js';

/** What a call reports back to the request handler. */
export interface TranscodeSink {
  problem(ctx: RequestContext, err: GatewayError, allow: string | null, close: boolean): void;
  complete(ctx: RequestContext): void;
  /** The response writer (heads go through it, with the route's responseHead policies). */
  readonly writer: ResponseWriter;
  /** Answers with a response policy's verdict instead of the transcoded answer. */
  answer(ctx: RequestContext, verdict: Exclude<Verdict, undefined>, close: boolean): void;
  /** A response policy threw where the answer can no longer change. */
  policyError(name: string, err: unknown): void;
}

function typeName(t: { fullName: string }): string {
  return t.fullName.startsWith('.') ? t.fullName.slice(1) : t.fullName;
}

/** A client-input error from the mapping layers (code invalid_argument or a query/path/body rule) → 400, else 500. */
function inputProblem(err: unknown): GatewayError {
  const e = err as { code?: string; message?: string };
  if (err instanceof GatewayError) return err;
  if (typeof e.code === 'string' && e.code !== 'internal' && e.code !== 'closed' && e.code !== 'unknown_type') {
    return new GatewayError(ErrorCodes.TRANSCODE_BAD_REQUEST, e.message);
  }
  return new GatewayError(ErrorCodes.INTERNAL, e.message, { cause: err });
}

/**
 * One transcoded exchange (see the file comment). The target comes from the
 * upstream's group (balancer, health); the call counts on it from dispatch
 * to its status (least-request), its outcome goes to passive health, and a
 * call that never reached its target is sent once more to another one.
 */
export class TranscodeCall {
  private readonly received: number;
  private readonly ac = new AbortController();
  private cancelStream: (() => void) | null = null;
  /** The target of the attempt in flight (counted in its `inflight`), else null. */
  private target: Target<GrpcChannel> | null = null;
  private tried: Target<GrpcChannel> | null = null;
  private attempts = 0;
  /** When the first attempt started (performance.now()); retries get what is left of the deadline. */
  private startedMs = 0;
  /** Circuit breaker and concurrency limit of the upstream (null when it has neither). */
  private readonly guard: GrpcCallGuard | null;

  constructor(
    private readonly ctx: RequestContext, private readonly route: CompiledRoute, private readonly entry: TranscodeEntry,
    private readonly binding: HttpBinding, private readonly vars: Array<[string, string]>, private readonly sink: TranscodeSink,
    /** The whole request body (the ingress buffered it), or null. */
    private readonly body: Buffer | null,
  ) {
    this.received = body === null ? 0 : body.length;
    const g = entry.group;
    this.guard = g.breaker === null && g.limiter === null ? null : new GrpcCallGuard(ctx, g);
  }

  /** Registers the abort hook and runs the call. */
  begin(): void {
    this.ctx.abortHook = () => { this.ac.abort(); this.cancelStream?.(); this.guard?.release(); };
    void this.run();
  }

  private async run(): Promise<void> {
    const { ctx, entry, binding: b } = this;
    try {
      let body: unknown;
      if (b.body !== '' && this.received > 0) {
        const text = this.body!.toString('utf8');
        try {
          body = JSON.parse(text);
        } catch (err) {
          throw new GatewayError(ErrorCodes.TRANSCODE_BAD_REQUEST, `malformed JSON body: ${(err as Error).message}`);
        }
      }
      const obj = requestObject(entry, b, this.vars, ctx.query, body);
      const encoded = entry.codec.encode(typeName(b.requestType), obj, { ignoreUnknownFields: entry.cfg.unknownFields === 'ignore', sizeHint: this.received });
      const bytes = encoded instanceof Promise ? await encoded : encoded;
      if (ctx.aborted) return;
      const metadata = requestMetadata(ctx, entry.cfg.metadata, entry.proto);
      if (this.guard !== null) {
        const admitted = this.guard.admit();
        const refusal = admitted instanceof Promise ? await admitted : admitted;
        if (ctx.aborted) return;
        if (refusal !== null) return this.sink.problem(ctx, refusal, null, false);
      }
      const channel = this.acquire();
      if (channel === null) return this.sink.problem(ctx, this.guard?.refusal ?? noTargetError(entry.group), null, false);
      this.startedMs = performance.now();
      if (b.serverStreaming) await this.stream(channel, bytes, metadata);
      else await this.unary(channel, bytes, metadata);
    } catch (err) {
      if (!ctx.aborted && !ctx.finished) this.sink.problem(ctx, inputProblem(err), null, false);
    } finally {
      this.release(null);
      this.guard?.release();
    }
  }

  /** Picks a target and counts the attempt on it; null when none (or only the one already tried) is available. */
  private acquire(): GrpcChannel | null {
    const group = this.entry.group;
    const t = group.pick(hashKeyOf(this.ctx, this.entry.hashOn));
    if (t === null || t === this.tried) return null;
    if (this.guard !== null && !this.guard.admitAttempt(this.attempts === 0)) return null;
    this.attempts++;
    this.target = t;
    this.tried = t;
    group.onStart(t);
    return t.pool;
  }

  /** Ends the attempt's use of its target and reports its outcome to passive health (null: no verdict). Idempotent. */
  private release(status: GrpcStatus | null): void {
    const t = this.target;
    if (t === null) return;
    this.target = null;
    this.entry.group.onFinish(t);
    if (this.guard !== null) this.guard.settle(status);
    if (status !== null) reportGrpcOutcome(this.entry.group, t, status);
  }

  /** After a failed attempt: the channel of another target when the call may go there, else null. */
  private retry(status: GrpcStatus): GrpcChannel | null {
    if (this.ctx.aborted || !mayRetryElsewhere(this.entry.group, status, this.attempts)) return null;
    return this.acquire();
  }

  /** The deadline of an attempt: what is left of the route's timeout (undefined = none). */
  private deadlineMs(): number | undefined {
    const total = this.route.timeout.requestMs;
    if (total <= 0) return undefined;
    return Math.max(1, Math.round(total - (performance.now() - this.startedMs)));
  }

  private async unary(first: GrpcChannel, bytes: Uint8Array, metadata: Array<[string, string]>): Promise<void> {
    const { ctx, entry, binding: b } = this;
    let channel: GrpcChannel | null = first;
    let r: GrpcResult;
    do {
      r = await channel.unary(b.fullPath, bytes, { deadlineMs: this.deadlineMs(), metadata, signal: this.ac.signal });
      this.release(r);
      channel = this.retry(r);
    } while (channel !== null);
    if (ctx.aborted || ctx.finished) return;
    if (r.status !== 0) return this.sink.problem(ctx, callProblem(r, entry.root), null, false);
    const text = await this.decode(r.response ?? new Uint8Array(0));
    if (ctx.aborted || ctx.finished) return;
    const meta = responseMetadata(entry, r.headers, r.trailers);
    const chain = ctx.chain;
    if (chain !== null && (chain.responseHead !== null || chain.responseBody !== null)) return this.answerThroughPolicies(text, meta);
    ctx.res.cork(() => {
      this.writeHead('application/json', meta);
      ctx.bytesOut += Buffer.byteLength(text);
      ctx.res.end(text);
    });
    this.finish(200);
  }

  /**
   * A unary answer on a route with response policies: responseHead may edit
   * or replace it, responseBody sees (and may change) the whole JSON body.
   */
  private async answerThroughPolicies(text: string, meta: Record<string, string>): Promise<void> {
    const ctx = this.ctx;
    const chain = ctx.chain!;
    const own = ['content-type', 'application/json'];
    for (const [k, v] of Object.entries(meta)) own.push(k, v);
    const head = ownHead(ctx, 200, own);
    if (chain.responseHead !== null) {
      const v = runResponseHead(chain.responseHead, ctx, head, true, this.sink.policyError);
      if (v !== undefined) return this.sink.answer(ctx, v, false);
    }
    const res: BufferedResponse = { status: head.status, headers: head.headers, body: Buffer.from(text) };
    if (chain.responseBody !== null) {
      const p = runWholeBody(chain.responseBody, ctx, res, ctx.route === null ? 0 : ctx.route.maxBodyBytes ?? 0);
      const v = p instanceof Promise ? await p : p;
      if (ctx.aborted || ctx.finished) return;
      if (v !== undefined) return this.sink.answer(ctx, v, false);
    }
    ctx.res.cork(() => this.sink.writer.endWith(ctx, res, res.body, false));
    this.finish(res.status);
  }

  private async stream(first: GrpcChannel, bytes: Uint8Array, metadata: Array<[string, string]>): Promise<void> {
    const { ctx, entry, binding: b } = this;
    const ndjson = entry.cfg.streaming === 'ndjson';
    let started = false;
    let n = 0;
    let channel: GrpcChannel | null = first;
    let st: GrpcStatus;
    do {
      const s = channel.serverStream(b.fullPath, bytes, { deadlineMs: this.deadlineMs(), metadata, signal: this.ac.signal });
      this.cancelStream = () => s.cancel();
      for await (const msg of s) {
        const text = await this.decode(msg);
        if (ctx.aborted || ctx.finished) { s.cancel(); return; }
        const piece = ndjson ? text + '\n' : (n === 0 ? '[' : ',') + text;
        n++;
        let ok = true;
        ctx.res.cork(() => {
          if (!started) this.writeHead(ndjson ? 'application/x-ndjson' : 'application/json', responseMetadata(entry, {}, {}));
          ctx.bytesOut += Buffer.byteLength(piece);
          ok = ctx.res.write(piece);
        });
        started = true;
        if (!ok) await new Promise<void>((resolve) => ctx.res.onWritable(() => { resolve(); return true; }));
        if (ctx.aborted) { s.cancel(); return; }
      }
      st = await s.status;
      this.release(st);
      // A call that never reached its target has no messages: it may go to another one.
      channel = n === 0 ? this.retry(st) : null;
    } while (channel !== null);
    if (ctx.aborted || ctx.finished) return;
    if (!started && st.status !== 0) return this.sink.problem(ctx, callProblem(st, entry.root), null, false);
    // A stream that fails after messages went out can only say so in the body (as grpc-gateway does).
    const err = st.status === 0 ? '' : JSON.stringify({ error: { grpcCode: st.status, status: grpcProblem(st.status, st.message).status, message: st.message } });
    const tail = ndjson ? (err === '' ? '' : err + '\n') : (n === 0 ? '[' : '') + (err === '' ? '' : (n === 0 ? '' : ',') + err) + ']';
    ctx.res.cork(() => {
      if (!started) this.writeHead(ndjson ? 'application/x-ndjson' : 'application/json', {});
      ctx.bytesOut += Buffer.byteLength(tail);
      ctx.res.end(tail);
    });
    this.finish(200);
  }

  /** The response message as JSON text (the `response_body` field only, when the binding says so). */
  private async decode(bytes: Uint8Array): Promise<string> {
    const { entry, binding: b } = this;
    const opts = { emitDefaults: entry.cfg.emitDefaults, useProtoNames: false };
    const field = responseField(b);
    if (field === '') {
      const t = entry.codec.decodeText(typeName(b.responseType), bytes, opts);
      return t instanceof Promise ? await t : t;
    }
    const d = entry.codec.decode(typeName(b.responseType), bytes, opts);
    const obj = (d instanceof Promise ? await d : d) as Record<string, unknown>;
    return JSON.stringify(obj[field] ?? null);
  }

  /** Writes the 200 head through the response writer (with the route's responseHead policies). */
  private writeHead(contentType: string, meta: Record<string, string>): void {
    const own = ['content-type', contentType];
    for (const [k, v] of Object.entries(meta)) own.push(k, v);
    const head = ownHead(this.ctx, 200, own);
    this.sink.writer.headPhase(this.ctx, head);
    writeHead(this.ctx, head);
  }

  private finish(status: number): void {
    this.ctx.status = status;
    markFinished(this.ctx);
    this.sink.complete(this.ctx);
  }
}

