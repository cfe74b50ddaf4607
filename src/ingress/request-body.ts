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
 * undici's side is full, `push` returns false and the uWS socket is paused
 * (synchronously, inside the onData callback); undici's next read resumes it.
 *
 * How far a pause holds depends on the uWS binary (measured, see README
 * "Streaming"). With the recv-yield patch (src/platform/recv-yield-patch.ts,
 * loaded by default on Linux x64) uSockets stops reading after the current
 * 512 KiB recv, so a body holds at most HIGH_WATER_MARK plus one recv buffer
 * whatever the client's speed. Without it, uSockets keeps reading while each
 * recv fills its whole buffer, so a client faster than the worker can push
 * hundreds of MiB past a pause, and server.maxBodyBacklog (checked by the
 * request handler) is what bounds memory.
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
