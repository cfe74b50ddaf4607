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

const HIGH_WATER_MARK = 256 * 1024;

/**
 * A request body streamed from uWS to undici with backpressure: when
 * undici's side is full, `push` returns false and the uWS socket is paused;
 * undici's next read resumes it.
 *
 * Limitation (measured, see README "Streaming"): uWS's pause() is advisory.
 * uSockets keeps reading while each recv fills its whole 512 KiB buffer, so a
 * client that sends faster than the upstream drains (loopback, 32 MiB
 * autotuned receive buffers) can push tens to a few hundred MiB past a pause
 * before the read loop yields. Downloads are not affected.
 */
export class StreamedBody extends Readable {
  private readonly ctx: RequestContext;
  private paused = false;
  /** Bytes received so far (for the body size limit). */
  received = 0;
  /** The client sent the whole body (uWS said isLast). */
  complete = false;

  constructor(ctx: RequestContext) {
    super({ highWaterMark: HIGH_WATER_MARK });
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
    if (isLast) {
      this.complete = true;
      this.push(null);
      // A paused socket must be resumed even though no more body is wanted:
      // Readable never calls _read after the end, and a socket left paused
      // would never read the next request on this keep-alive connection.
      this.resumeSocket();
    }
  }

  override _read(): void {
    this.resumeSocket();
  }

  private resumeSocket(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.ctx.aborted && !this.ctx.finished) this.ctx.res.resume();
  }
}
