/**
 * The consumer side of a server-streaming call: an async iterable of
 * response messages plus the final status, with backpressure. Messages are
 * queued up to a byte high-water mark; past it the HTTP/2 stream is paused,
 * so node stops acknowledging DATA and flow control stops the server.
 */
import type { CallSink, GrpcCall } from './grpc-call.js';
import { GrpcClientError } from './grpc-client-error.js';
import type { GrpcStatus } from './grpc-wire.js';
import { GrpcCode } from './status-map.js';

/**
 * A server-streaming call. Iterate it once (`for await`); the iteration
 * ends normally whatever the outcome, so always read `status` afterwards.
 * Leaving the loop early (`break`) cancels the call (status CANCELLED).
 */
export class GrpcServerStream implements AsyncIterable<Uint8Array>, CallSink {
  /** Final status; never rejects. */
  readonly status: Promise<GrpcStatus>;
  /** Response headers once received ({} when the call ends without them); never rejects. */
  readonly headers: Promise<Record<string, string>>;
  private readonly highWaterBytes: number;
  private call: GrpcCall | null = null;
  private queue: Uint8Array[] = [];
  private head = 0;
  private queuedBytes = 0;
  private ended = false;
  private paused = false;
  private iterated = false;
  private waiter: ((result: IteratorResult<Uint8Array>) => void) | null = null;
  private resolveStatus!: (status: GrpcStatus) => void;
  private resolveHeaders!: (headers: Record<string, string>) => void;

  /** @internal Built by GrpcChannel.serverStream. */
  constructor(highWaterBytes: number) {
    this.highWaterBytes = highWaterBytes;
    this.status = new Promise((resolve) => { this.resolveStatus = resolve; });
    this.headers = new Promise((resolve) => { this.resolveHeaders = resolve; });
  }

  /** @internal Links the call that feeds this stream. */
  attach(call: GrpcCall): void {
    this.call = call;
  }

  /** Bytes received and not yet consumed (queue + partial frame + HTTP/2 stream buffer). */
  get bufferedBytes(): number {
    return this.queuedBytes + (this.call?.pendingBytes ?? 0);
  }

  /** Cancels the call (status CANCELLED, stream reset); queued messages are dropped. */
  cancel(): void {
    this.call?.fail(GrpcCode.CANCELLED, 'Call cancelled by the consumer');
    this.dropQueue();
  }

  /** @internal CallSink */
  onHeaders(headers: Record<string, string>): void {
    this.resolveHeaders(headers);
  }

  /** @internal CallSink */
  onMessage(message: Uint8Array): void {
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter({ value: message, done: false });
      return;
    }
    this.queue.push(message);
    this.queuedBytes += message.byteLength;
    if (!this.paused && this.queuedBytes >= this.highWaterBytes) {
      this.paused = true;
      this.call?.pause();
    }
  }

  /** @internal CallSink */
  onEnd(status: GrpcStatus): void {
    this.ended = true;
    this.resolveHeaders(status.headers);
    this.resolveStatus(status);
    const waiter = this.waiter;
    if (waiter !== null) {
      this.waiter = null;
      waiter({ value: undefined, done: true });
    }
  }

  /** Single-use iterator over the response messages. */
  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    if (this.iterated) throw new GrpcClientError('already_consumed', 'A server stream can be iterated only once');
    this.iterated = true;
    return {
      next: () => this.next(),
      return: (): Promise<IteratorResult<Uint8Array>> => {
        if (!this.ended) this.cancel();
        this.dropQueue();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private next(): Promise<IteratorResult<Uint8Array>> {
    if (this.head < this.queue.length) {
      const value = this.queue[this.head];
      this.queue[this.head++] = EMPTY;
      this.queuedBytes -= value.byteLength;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      }
      if (this.paused && this.queuedBytes <= this.highWaterBytes / 2) {
        this.paused = false;
        this.call?.resume();
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    if (this.waiter !== null) {
      return Promise.reject(new GrpcClientError('already_consumed', 'next() called again before the previous call settled'));
    }
    return new Promise((resolve) => { this.waiter = resolve; });
  }

  private dropQueue(): void {
    this.queue = [];
    this.head = 0;
    this.queuedBytes = 0;
  }
}

const EMPTY = new Uint8Array(0);
