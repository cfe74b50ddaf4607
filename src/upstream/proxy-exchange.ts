import type { Dispatcher } from 'undici';
import type { RequestContext } from '../ingress/request-context.js';
import { eqLower } from './forward-headers.js';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import { policyFailure, runResponseBody, runResponseHead } from '../policies/run-phases.js';
import type { BufferedResponse, ResponseHead, Verdict } from '../policies/types.js';
import { cutConnection, endEmpty, headFromRaw, markFinished, writeHead, writeRawHead } from '../response/response-writer.js';
import { deferWrite, type BatchedWrite } from '../response/write-batch.js';
import type { ExchangeOwner } from './exchange-owner.js';

export type { ExchangeOwner } from './exchange-owner.js';

const ERR_RESPONSE_TOO_LARGE = new GatewayError(ErrorCodes.UPSTREAM_RESPONSE_TOO_LARGE);

const EMPTY = Buffer.alloc(0);

/**
 * One proxied exchange: an undici dispatch handler (the legacy callback API,
 * which undici 7 calls without any adapter) that streams the upstream
 * response into the uWS response with backpressure on both sides.
 *
 * Small responses with a known length are collected and written in a single
 * corked write (one syscall), batched with the other responses of the same
 * event-loop turn (write-batch.ts); larger or unknown-length ones stream with
 * `tryEnd` (Content-Length) or `write` (chunked).
 */
export class ProxyExchange implements Dispatcher.DispatchHandler, BatchedWrite {
  private readonly ctx: RequestContext;
  private readonly owner: ExchangeOwner;
  private readonly head: boolean;
  /** The head as policies saw it (routes with response policies; null on the raw fast path). */
  private policyHead: ResponseHead | null = null;
  /** The whole body is buffered for responseBody policies (no streaming). */
  private wholeBody = false;
  /** The body responseBody policies left (null: send what was buffered). */
  private replacedBody: Buffer | null = null;
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private statusCode = 0;
  private rawHeaders: Buffer[] | null = null;
  private hasRequestId = false;
  /** Declared length of the upstream body, -1 when chunked/unknown. */
  private total = -1;
  private buffered: Buffer[] | null = null;
  private bufferedBytes = 0;
  /** Streaming has begun: status and headers were written to the client. */
  private started = false;
  /** The response streams (not the buffered fast path); its head goes out with the first chunk. */
  private streaming = false;
  /** Bytes of a chunk tryEnd could not take yet (backpressure). */
  private pending: Buffer | null = null;
  private pendingOffset = 0;
  /** Chunks undici delivered while `pending` waited (it may deliver a few after a pause). */
  private queued: Buffer[] | null = null;
  private done = false;

  constructor(ctx: RequestContext, owner: ExchangeOwner, head: boolean) {
    this.ctx = ctx;
    this.owner = owner;
    this.head = head;
  }

  /** Whether status and headers already went to the client. */
  get responseStarted(): boolean {
    return this.started;
  }

  /** Whether the upstream's (final) response headers arrived. */
  get headersReceived(): boolean {
    return this.statusCode !== 0;
  }

  /** Aborts the upstream request (client went away or the deadline passed). */
  abort(err: Error): void {
    if (this.done) return;
    this.done = true;
    if (this.abortUpstream !== null) this.abortUpstream(err);
  }

  onConnect(abort: (err?: Error) => void): void {
    // `done`: aborted (deadline) while still queued in the pool.
    if (this.ctx.aborted || this.done) { abort(); return; }
    this.abortUpstream = abort;
  }

  onRequestSent(): void {
    if (!this.done) this.owner.requestSent(this.ctx);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: informational, not forwarded
    if (this.ctx.aborted) return false;
    this.statusCode = statusCode;
    this.rawHeaders = rawHeaders;
    this.resumeUpstream = resume;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const name = rawHeaders[i];
      if (name.length === 14 && eqLower(name, 'content-length')) this.total = Number(rawHeaders[i + 1].toString('latin1'));
      else if (name.length === 12 && eqLower(name, 'x-request-id')) this.hasRequestId = true;
    }
    this.owner.upstreamResponded(this.ctx, statusCode);
    const chain = this.ctx.chain;
    if (chain !== null && (chain.responseHead !== null || chain.responseBody !== null)) {
      const head = headFromRaw(this.ctx, statusCode, rawHeaders);
      if (chain.responseHead !== null) {
        const v = runResponseHead(chain.responseHead, this.ctx, head, true, this.owner.policyError);
        if (v !== undefined) { this.replace(v); return false; }
      }
      this.policyHead = head;
      if (chain.responseBody !== null && !this.head && statusCode !== 204 && statusCode !== 304) {
        this.wholeBody = true;
        this.buffered = [];
        return true;
      }
    }
    if (this.head || statusCode === 204 || statusCode === 304) return true;
    if (this.total >= 0 && this.total <= this.owner.bufferBodyBytes) {
      this.buffered = [];
      return true;
    }
    // why: the head is written together with the first body chunk (one cork,
    // one send) rather than in a cork of its own.
    this.streaming = true;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.ctx.aborted || this.done) return false;
    if (this.buffered !== null) {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
      if (this.wholeBody && this.bufferedBytes > (this.ctx.route!.maxBodyBytes ?? this.owner.maxBodyBytes)) {
        this.replace(ERR_RESPONSE_TOO_LARGE);
        return false;
      }
      return true;
    }
    // Every write is corked: uWS.js prints a warning line to stderr for each
    // write made outside a cork callback.
    corkTarget = this;
    corkChunk = chunk;
    this.ctx.res.cork(writeChunkCorked);
    return corkResult;
  }

  onComplete(): void {
    if (this.ctx.aborted || this.done) return;
    this.done = true;
    // A length-framed stream already ended the client response when its last
    // byte went out; uWS forbids touching a finished response (it throws).
    if (this.ctx.finished) return;
    if (this.wholeBody) return this.bodyPhase();
    // why: sent with the other responses of this loop turn (see write-batch.ts).
    deferWrite(this);
  }

  /** Stops the upstream exchange and lets the owner answer with a policy's verdict instead. */
  private replace(v: Exclude<Verdict, undefined>): void {
    this.abort(new Error('response replaced by a policy'));
    this.owner.replaced(this.ctx, v);
  }

  /** Runs the responseBody phase on the whole buffered response, then writes what it left. */
  private bodyPhase(): void {
    const parts = this.buffered!;
    const res: BufferedResponse = {
      status: this.policyHead!.status, headers: this.policyHead!.headers,
      body: parts.length === 0 ? EMPTY : parts.length === 1 ? parts[0] : Buffer.concat(parts, this.bufferedBytes),
    };
    const v = runResponseBody(this.ctx.chain!.responseBody!, this.ctx, res);
    if (v instanceof Promise) v.then((r) => this.bodyDone(r, res), (err: unknown) => this.bodyDone(policyFailure('responseBody', err), res));
    else this.bodyDone(v, res);
  }

  private bodyDone(v: Verdict, res: BufferedResponse): void {
    if (this.ctx.aborted || this.ctx.finished) return;
    if (v !== undefined) { this.owner.replaced(this.ctx, v); return; }
    this.policyHead = res;
    this.replacedBody = res.body;
    deferWrite(this);
  }

  /** BatchedWrite: ends the client response, unless it was aborted or answered meanwhile. */
  flushWrite(): void {
    if (this.ctx.aborted || this.ctx.finished) return;
    corkTarget = this;
    try {
      this.ctx.res.cork(finishCorked);
    } catch {
      // Never expected (uWS throws only for a response it no longer owns); the
      // connection cannot be trusted after a failed write, so cut it.
      if (!this.ctx.finished) cutConnection(this.ctx);
      this.owner.finished(this.ctx);
    }
  }

  onError(err: Error): void {
    if (this.done && !this.started) return;
    this.done = true;
    if (this.ctx.aborted || this.ctx.finished) { this.owner.finished(this.ctx); return; }
    if (this.started) {
      // Headers already went out: the only honest signal left is to cut the connection.
      this.owner.upstreamFailed(this.ctx, err, true);
      cutConnection(this.ctx);
      this.owner.finished(this.ctx);
      return;
    }
    this.owner.upstreamFailed(this.ctx, err, false);
  }

  /** Writes status and headers through the response writer (inside a cork). */
  writeHead(): void {
    if (this.policyHead !== null) writeHead(this.ctx, this.policyHead);
    else writeRawHead(this.ctx, this.statusCode, this.rawHeaders!, this.hasRequestId);
  }

  /**
   * Writes the head of a streamed response (inside a cork). A streamed
   * response cannot pass `closeConnection` to end() (see finish()), so the
   * head says `connection: close` when the connection must close.
   */
  writeStreamHead(): void {
    this.writeHead();
    if (this.owner.closeAfter(this.ctx)) this.ctx.res.writeHeader('connection', 'close');
  }

  /** Writes one streamed chunk; false means backpressure (undici pauses). */
  writeChunk(chunk: Buffer): boolean {
    const res = this.ctx.res;
    if (!this.started) {
      this.writeStreamHead();
      this.started = true;
    }
    if (this.total >= 0) {
      if (this.pending !== null) {
        (this.queued ??= []).push(chunk);
        return false;
      }
      const offset = res.getWriteOffset();
      const [ok, responded] = res.tryEnd(chunk, this.total);
      if (responded) { this.complete(); return true; }
      if (ok) return true;
      this.pending = chunk;
      this.pendingOffset = offset;
      res.onWritable(this.onWritable);
      return false;
    }
    if (res.write(chunk)) return true;
    res.onWritable(this.onWritable);
    return false;
  }

  // why: a closure per exchange only when backpressure actually happens.
  private writableHandler: ((offset: number) => boolean) | null = null;

  /** The onWritable callback for uWS, created on first backpressure. */
  private get onWritable(): (offset: number) => boolean {
    return (this.writableHandler ??= (offset: number) => this.drained(offset));
  }

  /** uWS drained its buffer: retry the rest of a pending chunk, then resume undici. */
  private drained(offset: number): boolean {
    if (this.ctx.aborted) return true;
    const res = this.ctx.res;
    let pending = this.pending;
    while (pending !== null) {
      const [ok, responded] = res.tryEnd(pending.subarray(offset - this.pendingOffset), this.total);
      if (responded) { this.pending = null; this.queued = null; this.complete(); return true; }
      if (!ok) return false;
      const next = this.queued !== null ? this.queued.shift() : undefined;
      if (next === undefined) { this.pending = null; break; }
      pending = next;
      this.pending = next;
      this.pendingOffset = offset = res.getWriteOffset();
    }
    if (this.resumeUpstream !== null && !this.done) this.resumeUpstream();
    return true;
  }

  /** Ends the client response (inside a cork). */
  finish(): void {
    const res = this.ctx.res;
    const close = this.owner.closeAfter(this.ctx);
    if (this.streaming) {
      if (!this.started) {
        this.writeStreamHead();
        this.started = true;
      }
      // why: uWS's end(…, true) appends a `Connection: close` header line, which
      // after write() lands inside the chunked body and corrupts it. The head
      // already said `connection: close` if it was due then (writeStreamHead),
      // so end normally; the client closes, or drain() does.
      if (this.total < 0) { res.end(); this.complete(); }
      else if (this.pending === null && !this.ctx.finished) {
        // Upstream ended short of its Content-Length: the client cannot be told
        // otherwise than by closing the connection.
        res.close();
        this.complete();
      }
      return;
    }
    this.writeHead();
    const status = this.policyHead !== null ? this.policyHead.status : this.statusCode;
    if (status === 204 || status === 304) endEmpty(res, close);
    else if (this.head) {
      if (this.total >= 0 && this.replacedBody === null) res.endWithoutBody(this.total, close);
      else endEmpty(res, close);
    }
    else {
      const parts = this.buffered;
      const body = this.replacedBody !== null ? this.replacedBody : parts === null || parts.length === 0 ? EMPTY
        : parts.length === 1 ? parts[0] : Buffer.concat(parts, this.bufferedBytes);
      res.end(body, close);
    }
    this.complete();
  }

  private complete(): void {
    if (this.ctx.finished) return;
    markFinished(this.ctx);
    this.owner.finished(this.ctx);
  }
}

// why: res.cork needs a callback; these module-level functions plus a
// "current target" variable avoid a closure allocation per chunk. cork runs
// its callback synchronously, so the variables cannot be clobbered meanwhile.
let corkTarget: ProxyExchange;
let corkChunk: Buffer = EMPTY;
let corkResult = true;
function writeChunkCorked(): void { corkResult = corkTarget.writeChunk(corkChunk); }
function finishCorked(): void { corkTarget.finish(); }
