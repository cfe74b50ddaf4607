import { Readable } from 'node:stream';
import type { RequestContext } from './request-context.js';

/**
 * Collects a body of known, small length into one preallocated buffer
 * (the fast path: no stream machinery, one copy per chunk).
 */
export class BufferedBody {
  readonly data: Buffer;
  private offset = 0;

  constructor(length: number) {
    this.data = Buffer.allocUnsafe(length);
  }

  /** Copies a uWS chunk (neutered after the callback returns); false if it overflows. */
  append(chunk: ArrayBuffer): boolean {
    const n = chunk.byteLength;
    if (this.offset + n > this.data.length) return false;
    this.data.set(new Uint8Array(chunk), this.offset);
    this.offset += n;
    return true;
  }

  /** Whether every declared byte arrived. */
  complete(): boolean {
    return this.offset === this.data.length;
  }
}

/**
 * A request body streamed from uWS to undici with backpressure: when undici's
 * side is full `push` returns false and the uWS socket is paused; undici's
 * next read resumes it. Memory stays bounded by the stream's high-water mark.
 */
export class StreamedBody extends Readable {
  private readonly ctx: RequestContext;
  private paused = false;
  /** Bytes received so far (for the body size limit). */
  received = 0;

  constructor(ctx: RequestContext) {
    super({ highWaterMark: 256 * 1024 });
    this.ctx = ctx;
  }

  /** Feeds one uWS chunk (copied: uWS neuters it after the callback). */
  feed(chunk: ArrayBuffer, isLast: boolean): void {
    if (this.destroyed) return;
    this.received += chunk.byteLength;
    if (chunk.byteLength > 0) {
      const copy = Buffer.from(new Uint8Array(chunk));
      if (!this.push(copy) && !this.paused && !isLast) {
        this.paused = true;
        this.ctx.res.pause();
      }
    }
    if (isLast) this.push(null);
  }

  override _read(): void {
    if (this.paused) {
      this.paused = false;
      if (!this.ctx.aborted && !this.ctx.finished) this.ctx.res.resume();
    }
  }
}
