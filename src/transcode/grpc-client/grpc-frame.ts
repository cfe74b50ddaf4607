/**
 * gRPC length-prefixed message framing: a 1-byte compressed flag and a
 * 4-byte big-endian length before each message. The decoder is fed DATA
 * chunks as they arrive and copes with frames split across any boundary.
 */
import { GrpcCode } from './status-map.js';

/** Size of the frame prefix. */
export const FRAME_HEADER_BYTES = 5;

/** The 5-byte prefix for an uncompressed message of `length` bytes. */
export function framePrefix(length: number): Buffer {
  const prefix = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  prefix[0] = 0;
  prefix.writeUInt32BE(length, 1);
  return prefix;
}

/** One whole frame (prefix + message) in a single buffer. */
export function encodeFrame(message: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.byteLength);
  frame[0] = 0;
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, FRAME_HEADER_BYTES);
  return frame;
}

/** A framing violation found by {@link FrameDecoder}: the gRPC code and message to report. */
export interface FrameError {
  readonly code: number;
  readonly message: string;
}

/**
 * Incremental frame decoder. `push` hands each complete message to `emit`;
 * after the first error it ignores further input. Compressed frames are
 * rejected (the client never advertises a compression) and so are messages
 * over `maxMessageBytes`.
 */
export class FrameDecoder {
  private readonly maxMessageBytes: number;
  private readonly header = Buffer.alloc(FRAME_HEADER_BYTES);
  private headerFilled = 0;
  private body: Buffer | null = null;
  private bodyFilled = 0;
  private failed = false;

  constructor(maxMessageBytes: number) {
    this.maxMessageBytes = maxMessageBytes;
  }

  /** Bytes held for a frame not yet complete. */
  get pendingBytes(): number {
    return this.headerFilled + this.bodyFilled;
  }

  /** True when the input so far ended on a frame boundary. */
  get atBoundary(): boolean {
    return this.headerFilled === 0 && this.body === null;
  }

  /** Feeds one chunk; returns the first framing error, or null. */
  push(chunk: Uint8Array, emit: (message: Uint8Array) => void): FrameError | null {
    if (this.failed) return null;
    const len = chunk.byteLength;
    let off = 0;
    while (off < len) {
      if (this.body !== null) {
        const n = Math.min(this.body.length - this.bodyFilled, len - off);
        this.body.set(chunk.subarray(off, off + n), this.bodyFilled);
        this.bodyFilled += n;
        off += n;
        if (this.bodyFilled === this.body.length) {
          const message = this.body;
          this.body = null;
          this.bodyFilled = 0;
          emit(message);
        }
        continue;
      }
      let flag: number;
      let size: number;
      if (this.headerFilled === 0 && len - off >= FRAME_HEADER_BYTES) {
        flag = chunk[off];
        size = ((chunk[off + 1] << 24) >>> 0) + (chunk[off + 2] << 16) + (chunk[off + 3] << 8) + chunk[off + 4];
        off += FRAME_HEADER_BYTES;
      } else {
        const n = Math.min(FRAME_HEADER_BYTES - this.headerFilled, len - off);
        this.header.set(chunk.subarray(off, off + n), this.headerFilled);
        this.headerFilled += n;
        off += n;
        if (this.headerFilled < FRAME_HEADER_BYTES) break;
        this.headerFilled = 0;
        flag = this.header[0];
        size = this.header.readUInt32BE(1);
      }
      const error = this.check(flag, size);
      if (error !== null) {
        this.failed = true;
        return error;
      }
      if (len - off >= size) {
        // why: the common case (whole message inside one DATA chunk) is a
        // zero-copy view; the chunk is ours (node never reuses it).
        emit(chunk.subarray(off, off + size));
        off += size;
      } else {
        this.body = Buffer.allocUnsafe(size);
        this.bodyFilled = 0;
      }
    }
    return null;
  }

  private check(flag: number, size: number): FrameError | null {
    if (flag === 1) {
      return { code: GrpcCode.INTERNAL, message: 'Received a compressed message but no compression was negotiated' };
    }
    if (flag !== 0) return { code: GrpcCode.INTERNAL, message: `Received a frame with invalid flags 0x${flag.toString(16)}` };
    if (size > this.maxMessageBytes) {
      return {
        code: GrpcCode.RESOURCE_EXHAUSTED,
        message: `Received message larger than max (${size} vs. ${this.maxMessageBytes})`,
      };
    }
    return null;
  }
}
