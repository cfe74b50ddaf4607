import type { Dispatcher } from 'undici';
import { eqLower } from './forward-headers.js';
import { policyFailure, runResponseBody, runResponseHead } from '../policies/run-phases.js';
import { BodyGate, ERR_RESPONSE_TOO_LARGE, Growth } from '../policies/body-gate.js';
import type { BufferedResponse, Verdict } from '../policies/types.js';
import { cutConnection, headFromRaw } from '../response/response-writer.js';
import { deferWrite } from '../response/write-batch.js';
import { ClientResponseStream } from './client-response-stream.js';
import type { BodyTap } from './body-tap.js';

export type { ExchangeOwner } from './exchange-owner.js';

const EMPTY = Buffer.alloc(0);

/**
 * One proxied exchange: an undici dispatch handler (the legacy callback API,
 * which undici 7 calls without any adapter) that streams the upstream
 * response into the uWS response with backpressure on both sides.
 *
 * Small responses with a known length are collected and written in a single
 * corked write (one syscall), batched with the other responses of the same
 * event-loop turn (write-batch.ts); larger or unknown-length ones stream with
 * `tryEnd` (Content-Length) or `write` (chunked). This class is the
 * upstream side (undici's callbacks, the policy phases on the response); the
 * client-side writing is ClientResponseStream (client-response-stream.ts).
 */
export class ProxyExchange extends ClientResponseStream implements Dispatcher.DispatchHandler {
  /** The whole body is buffered for responseBody policies (no streaming). */
  private wholeBody = false;
  /** Which responseBody policies take this body, up to what size (set with wholeBody). */
  private gate: BodyGate | null = null;
  private abortUpstream: ((err?: Error) => void) | null = null;
  /** A responseHead policy's tap on the body (body-tap.ts); null on every route that attaches none. */
  private tap: BodyTap | null = null;

  /** Whether the upstream's (final) response headers arrived. */
  get headersReceived(): boolean {
    return this.statusCode !== 0;
  }

  /**
   * The upstream's response headers exactly as received (raw name/value
   * Buffers; null before they arrive): for a response policy that needs the
   * origin's own head rather than the one earlier policies edited (the
   * response cache stores the origin's response).
   */
  get upstreamRawHeaders(): readonly Buffer[] | null {
    return this.rawHeaders;
  }

  /** The upstream's response status as received (0 before the headers arrive). */
  get upstreamStatus(): number {
    return this.statusCode;
  }

  /** Aborts the upstream request (client went away or the deadline passed). */
  abort(err: Error): void {
    if (this.done) return;
    this.done = true;
    this.dropTap();
    if (this.abortUpstream !== null) this.abortUpstream(err);
  }

  /** Tells an attached body tap that the body will not complete. */
  private dropTap(): void {
    const tap = this.tap;
    if (tap === null) return;
    this.tap = null;
    tap.abort();
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
    if (this.done) return false; // the owner dropped this response to retry (it aborted the exchange)
    const chain = this.ctx.chain;
    if (chain !== null && (chain.responseHead !== null || chain.responseBody !== null)) {
      const head = headFromRaw(this.ctx, statusCode, rawHeaders);
      if (chain.responseHead !== null) {
        const v = runResponseHead(chain.responseHead, this.ctx, head, true, this.owner.policyError);
        if (v !== undefined) {
          // A tap attached before a later policy replaced the response is told it ends here.
          this.tap = this.ctx.bodyTap;
          this.replace(v);
          return false;
        }
        // why: read once per response, here, so a route whose policies attach
        // no tap pays one null check per chunk and nothing else.
        this.tap = this.ctx.bodyTap;
      }
      this.policyHead = head;
      if (chain.responseBody !== null && !this.head && statusCode !== 204 && statusCode !== 304) {
        // Every policy may decline this body (e.g. not JSON, or declared too large): it then streams as usual.
        const gate = BodyGate.open(chain.responseBody, this.ctx, head, this.total, this.ctx.route!.maxBodyBytes ?? this.owner.maxBodyBytes);
        if (gate !== null) {
          this.gate = gate;
          this.wholeBody = true;
          this.buffered = [];
          return true;
        }
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
    if (this.tap !== null && !this.tap.chunk(chunk)) this.tap = null;
    if (this.buffered !== null) {
      this.buffered.push(chunk);
      this.bufferedBytes += chunk.length;
      if (this.wholeBody && this.bufferedBytes > this.gate!.bound) {
        const g = this.gate!.grow(this.ctx, this.bufferedBytes);
        if (g === Growth.Fail) {
          this.replace(ERR_RESPONSE_TOO_LARGE);
          return false;
        }
        if (g === Growth.Pass) return this.passThrough();
      }
      return true;
    }
    // Every write is corked: uWS.js prints a warning line to stderr for each
    // write made outside a cork callback.
    return this.corkedChunk(chunk);
  }

  onComplete(): void {
    const tap = this.tap;
    if (tap !== null) {
      this.tap = null;
      if (this.ctx.aborted || this.done) tap.abort();
      else tap.end();
    }
    if (this.ctx.aborted || this.done) return;
    this.done = true;
    // A length-framed stream already ended the client response when its last
    // byte went out; uWS forbids touching a finished response (it throws).
    if (this.ctx.finished) return;
    if (this.wholeBody) return this.bodyPhase();
    // why: sent with the other responses of this loop turn (see write-batch.ts).
    deferWrite(this);
  }

  /**
   * Every responseBody policy left this (streamed) body as it grew: what was
   * buffered goes out now, in one write, and the rest streams after it.
   */
  private passThrough(): boolean {
    const parts = this.buffered!;
    const chunk = parts.length === 1 ? parts[0] : Buffer.concat(parts, this.bufferedBytes);
    this.buffered = null;
    this.bufferedBytes = 0;
    this.wholeBody = false;
    this.gate = null;
    this.streaming = true;
    return this.corkedChunk(chunk);
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
    const v = runResponseBody(this.gate!.takers, this.ctx, res);
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

  onError(err: Error): void {
    this.dropTap();
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

}