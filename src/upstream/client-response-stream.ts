/**
 * The client side of a proxied exchange: writing the upstream's response
 * into the uWS response — the buffered fast path (one corked `end`, batched
 * with the loop turn's other responses), or streaming with `tryEnd`
 * (Content-Length) / `write` (chunked) and backpressure both ways (uWS
 * `onWritable`, undici's pause/resume). ProxyExchange (proxy-exchange.ts)
 * is the upstream side and fills these fields as the response arrives.
 */
import type { RequestContext } from '../ingress/request-context.js';
import type { ResponseHead } from '../policies/types.js';
import { cutConnection, endEmpty, markFinished, writeHead, writeRawHead } from '../response/response-writer.js';
import type { BatchedWrite } from '../response/write-batch.js';
import type { ExchangeOwner } from './exchange-owner.js';

const EMPTY = Buffer.alloc(0);

/** See the file comment. */
export abstract class ClientResponseStream implements BatchedWrite {
  protected readonly ctx: RequestContext;
  protected readonly owner: ExchangeOwner;
  /** A HEAD request: the response has no body. */
  protected readonly head: boolean;
  /** The head as policies saw it (routes with response policies; null on the raw fast path). */
  protected policyHead: ResponseHead | null = null;
  /** The body responseBody policies left (null: send what was buffered). */
  protected replacedBody: Buffer | null = null;
  protected resumeUpstream: (() => void) | null = null;
  protected statusCode = 0;
  protected rawHeaders: Buffer[] | null = null;
  protected hasRequestId = false;
  /** Declared length of the upstream body, -1 when chunked/unknown. */
  protected total = -1;
  protected buffered: Buffer[] | null = null;
  protected bufferedBytes = 0;
  /** Streaming has begun: status and headers were written to the client. */
  protected started = false;
  /** The response streams (not the buffered fast path); its head goes out with the first chunk. */
  protected streaming = false;
  /** Bytes of a chunk tryEnd could not take yet (backpressure). */
  private pending: Buffer | null = null;
  private pendingOffset = 0;
  /** Chunks undici delivered while `pending` waited (it may deliver a few after a pause). */
  private queued: Buffer[] | null = null;
  /** The upstream exchange is over (completed, failed or aborted). */
  protected done = false;

  constructor(ctx: RequestContext, owner: ExchangeOwner, head: boolean) {
    this.ctx = ctx;
    this.owner = owner;
    this.head = head;
  }

  /** Whether status and headers already went to the client. */
  get responseStarted(): boolean {
    return this.started;
  }

  /** Writes one streamed chunk inside a cork (uWS.js warns on every uncorked write); false means backpressure. */
  protected corkedChunk(chunk: Buffer): boolean {
    corkTarget = this;
    corkChunk = chunk;
    this.ctx.res.cork(writeChunkCorked);
    return corkResult;
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
    this.ctx.bytesOut += chunk.length;
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
      // A route whose responseBody policies may change the body cannot tell
      // the GET's length from the upstream's: none is sent (RFC 9110 §9.3.2).
      const chain = this.ctx.chain;
      if (this.total >= 0 && this.replacedBody === null && (chain === null || chain.responseBody === null)) res.endWithoutBody(this.total, close);
      else endEmpty(res, close);
    }
    else {
      const parts = this.buffered;
      const body = this.replacedBody !== null ? this.replacedBody : parts === null || parts.length === 0 ? EMPTY
        : parts.length === 1 ? parts[0] : Buffer.concat(parts, this.bufferedBytes);
      this.ctx.bytesOut += body.length;
      res.end(body, close);
    }
    this.complete();
  }

  protected complete(): void {
    if (this.ctx.finished) return;
    markFinished(this.ctx);
    this.owner.finished(this.ctx);
  }
}

// why: res.cork needs a callback; these module-level functions plus a
// "current target" variable avoid a closure allocation per chunk. cork runs
// its callback synchronously, so the variables cannot be clobbered meanwhile.
let corkTarget: ClientResponseStream;
let corkChunk: Buffer = EMPTY;
let corkResult = true;
function writeChunkCorked(): void { corkResult = corkTarget.writeChunk(corkChunk); }
function finishCorked(): void { corkTarget.finish(); }
