import { Readable } from 'node:stream';
import type { RequestContext } from './request-context.js';

/** Outcome of {@link BufferedBody.append}. */
export const enum AppendResult { Ok, LongerThanDeclared, OverLimit }

/**
 * Collects a whole request body: into one preallocated buffer when its
 * length is declared (the fast path: no stream machinery, one copy per
 * chunk), or as a list of chunks up to a limit when it is chunked.
 */
export class BufferedBody {
  private readonly fixed: Buffer | null;
  private chunks: Buffer[] | null = null;
  private offset = 0;
  /** The client sent the last chunk. */
  done = false;

  /**
   * @param length declared Content-Length, or -1 when chunked.
   * @param limit most bytes accepted for a chunked body (0 = unlimited).
   */
  constructor(length: number, private readonly limit: number) {
    this.fixed = length >= 0 ? Buffer.allocUnsafe(length) : null;
  }

  /** Copies a uWS chunk (neutered after the callback returns). */
  append(chunk: ArrayBuffer): AppendResult {
    const n = chunk.byteLength;
    if (this.fixed !== null) {
      if (this.offset + n > this.fixed.length) return AppendResult.LongerThanDeclared;
      this.fixed.set(new Uint8Array(chunk), this.offset);
    } else {
      if (this.limit > 0 && this.offset + n > this.limit) return AppendResult.OverLimit;
      if (n > 0) (this.chunks ??= []).push(Buffer.from(new Uint8Array(chunk)));
    }
    this.offset += n;
    return AppendResult.Ok;
  }

  /** Bytes received so far. */
  get received(): number {
    return this.offset;
  }

  /** Whether every declared byte arrived (always true for a chunked body once done). */
  complete(): boolean {
    return this.fixed === null || this.offset === this.fixed.length;
  }

  /** The whole body (call once complete). */
  get data(): Buffer {
    if (this.fixed !== null) return this.fixed;
    const c = this.chunks;
    return c === null ? Buffer.alloc(0) : c.length === 1 ? c[0] : Buffer.concat(c, this.offset);
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
  /** The client socket is paused because the consumer (the upstream) is not reading. */
  paused = false;
  /**
   * How many times the consumer asked for more (Readable._read): the
   * dispatcher compares it between two deadline checks to tell an upstream
   * that stopped reading from one that is slow.
   */
  pulls = 0;
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
    this.pulls++;
    this.resumeSocket();
  }

  private resumeSocket(): void {
    if (!this.paused) return;
    this.paused = false;
    if (!this.ctx.aborted && !this.ctx.finished) this.ctx.res.resume();
  }
}
