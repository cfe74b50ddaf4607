/**
 * A gRPC channel to one target over HTTP/2 with node:http2, carrying
 * pre-serialised messages: cleartext (`h2c://`, prior knowledge) or TLS
 * (`https://`, ALPN h2, see tls-socket.ts).
 *
 * One session at a time, opened on the first call, replaced after GOAWAY,
 * close or error (streams already open on a retiring session finish there).
 * Calls beyond the session's concurrent-stream limit (the server's
 * SETTINGS_MAX_CONCURRENT_STREAMS, capped by `maxConcurrentStreams`) wait in
 * a FIFO queue — no second session is opened. After a failed connect the
 * channel is "down" for a capped exponential backoff, during which calls
 * fail at once with UNAVAILABLE; the next call after that tries again.
 */
import type http2 from 'node:http2';
import { GrpcCall, type CallSettings, type GrpcCallOptions } from './grpc-call.js';
import { GrpcClientError } from './grpc-client-error.js';
import { GrpcServerStream } from './grpc-server-stream.js';
import type { GrpcResult, GrpcStatus } from './grpc-wire.js';
import { openSlot, type SessionSlot, type SlotEvents, type SlotTls } from './session-slot.js';
import { GrpcCode, metadataToHeaders } from './status-map.js';
import type { GrpcTlsOptions } from './tls-socket.js';

/** Channel tuning; every field is optional. */
export interface GrpcChannelOptions {
  /** Largest response message accepted (RESOURCE_EXHAUSTED beyond). Default 4 MiB. */
  maxReceiveMessageBytes?: number;
  /** Local cap on concurrent streams per session (the server's limit applies too). Default 1000. */
  maxConcurrentStreams?: number;
  /** Calls that may wait for a stream slot or the connection (RESOURCE_EXHAUSTED beyond). Default 10000. */
  maxQueuedCalls?: number;
  /** Time allowed for TCP connect + the server's SETTINGS. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** First backoff after a failed connect; doubles per consecutive failure. Default 250 ms. */
  backoffInitialMs?: number;
  /** Backoff cap. Default 5000 ms. */
  backoffMaxMs?: number;
  /** HTTP/2 PING interval while connected; 0 disables keep-alive. Default 0. */
  keepaliveIntervalMs?: number;
  /** A PING not acknowledged within this closes the session. Default 10000 ms. */
  keepaliveTimeoutMs?: number;
  /** Bytes a server stream may buffer before the HTTP/2 stream is paused. Default 256 KiB. */
  streamHighWaterBytes?: number;
  /** user-agent header. Default `turnpike-grpc/0.1.0`. */
  userAgent?: string;
  /** TLS settings of an `https://` target (ignored for h2c). Default: Node's trust store, the URL's host name. */
  tls?: GrpcTlsOptions | null;
}

/** Connection state, for observability. */
export type GrpcChannelState = 'idle' | 'connecting' | 'ready' | 'down' | 'closed';

const METHOD_PATH = /^\/[^/?#\s]+\/[^/?#\s]+$/;

/** A gRPC client channel for one `h2c://host:port` (or `http://host:port`) or `https://host:port` target. */
export class GrpcChannel {
  /** The target as `h2c://host:port` or `https://host:port`. */
  readonly target: string;
  private readonly origin: string;
  /** Where and how to connect over TLS; null for h2c. */
  private readonly tls: SlotTls | null;
  private readonly settings: CallSettings;
  private readonly opts: Required<Omit<GrpcChannelOptions, 'userAgent' | 'maxReceiveMessageBytes' | 'tls'>>;
  private readonly sessions = new Set<http2.ClientHttp2Session>();
  private readonly queue = new Set<GrpcCall>();
  private slot: SessionSlot | null = null;
  private failures = 0;
  private downUntil = 0;
  private lastError = '';
  private lastCause: Error | null = null;
  private closed = false;
  private pumping = false;

  /** Throws GrpcClientError `invalid_target` for anything but h2c://, http:// or https:// host[:port]. */
  constructor(target: string, options: GrpcChannelOptions = {}) {
    let url: URL;
    try {
      url = new URL(target);
    } catch {
      throw new GrpcClientError('invalid_target', `gRPC target "${target}" is not a URL (expected h2c://host:port or https://host:port)`);
    }
    const secure = url.protocol === 'https:';
    if ((url.protocol !== 'h2c:' && url.protocol !== 'http:' && !secure) || url.hostname === '' || (url.pathname !== '' && url.pathname !== '/')) {
      throw new GrpcClientError('invalid_target', `gRPC target "${target}" must be h2c://host:port, http://host:port or https://host:port`);
    }
    const port = url.port === '' ? (secure ? '443' : '80') : url.port;
    this.target = `${secure ? 'https' : 'h2c'}://${url.hostname}:${port}`;
    this.origin = `${secure ? 'https' : 'http'}://${url.hostname}:${port}`;
    const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.tls = secure ? { host, port: Number(port), options: options.tls ?? {} } : null;
    this.settings = {
      target: this.target,
      userAgent: options.userAgent ?? 'turnpike-grpc/0.1.0',
      maxReceiveMessageBytes: options.maxReceiveMessageBytes ?? 4 * 1024 * 1024,
    };
    this.opts = {
      maxConcurrentStreams: options.maxConcurrentStreams ?? 1000,
      maxQueuedCalls: options.maxQueuedCalls ?? 10_000,
      connectTimeoutMs: options.connectTimeoutMs ?? 5000,
      backoffInitialMs: options.backoffInitialMs ?? 250,
      backoffMaxMs: options.backoffMaxMs ?? 5000,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 0,
      keepaliveTimeoutMs: options.keepaliveTimeoutMs ?? 10_000,
      streamHighWaterBytes: options.streamHighWaterBytes ?? 256 * 1024,
    };
  }

  /** Current connection state. */
  get state(): GrpcChannelState {
    if (this.closed) return 'closed';
    if (Date.now() < this.downUntil) return 'down';
    if (this.slot === null) return 'idle';
    return this.slot.ready ? 'ready' : 'connecting';
  }

  /** Streams open on the current session plus calls waiting in the queue. */
  get load(): { active: number; queued: number } {
    return { active: this.slot?.active ?? 0, queued: this.queue.size };
  }

  /**
   * A unary call: `message` is the serialised request. Always resolves with
   * the outcome (transport failures become UNAVAILABLE, the deadline
   * DEADLINE_EXCEEDED, an abort CANCELLED); rejects only with a
   * GrpcClientError for an invalid path or metadata.
   */
  unary(path: string, message: Uint8Array, options: GrpcCallOptions = {}): Promise<GrpcResult> {
    let metadata: http2.OutgoingHttpHeaders;
    try {
      metadata = this.prepare(path, options);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<GrpcResult>((resolve) => {
      let response: Uint8Array | null = null;
      let count = 0;
      const call: GrpcCall = new GrpcCall(this.settings, path, message, metadata, options, {
        onHeaders: noop,
        onMessage(m: Uint8Array): void {
          if (++count === 1) response = m;
          else call.fail(GrpcCode.INTERNAL, `${path} is unary but the server sent more than one response message`);
        },
        onEnd(status: GrpcStatus): void {
          if (status.status === GrpcCode.OK && count === 0) {
            resolve({ ...status, status: GrpcCode.INTERNAL, message: `${path} returned OK without a response message`, response: null });
          } else {
            resolve({ ...status, response: status.status === GrpcCode.OK ? response : null });
          }
        },
      });
      this.dispatch(call);
    });
  }

  /**
   * A server-streaming call. Iterate the result for the response messages,
   * then await its `status`. Throws GrpcClientError for an invalid path or
   * metadata.
   */
  serverStream(path: string, message: Uint8Array, options: GrpcCallOptions = {}): GrpcServerStream {
    const metadata = this.prepare(path, options);
    const stream = new GrpcServerStream(this.opts.streamHighWaterBytes);
    const call = new GrpcCall(this.settings, path, message, metadata, options, stream);
    stream.attach(call);
    this.dispatch(call);
    return stream;
  }

  /** Stops new calls (they get UNAVAILABLE), fails queued ones, and resolves once open streams have finished. */
  close(): Promise<void> {
    this.shutdown();
    const waits: Array<Promise<void>> = [];
    for (const session of this.sessions) {
      waits.push(new Promise<void>((resolve) => {
        if (session.destroyed) return resolve();
        session.once('close', () => resolve());
        if (!session.closed) session.close();
      }));
    }
    return Promise.all(waits).then(noop);
  }

  /** Like {@link close} but resets open streams at once (their calls end UNAVAILABLE). */
  destroy(): void {
    this.shutdown();
    for (const session of this.sessions) session.destroy();
  }

  private shutdown(): void {
    this.closed = true;
    this.failQueued(GrpcCode.UNAVAILABLE, `Channel to ${this.target} is closed`);
  }

  private prepare(path: string, options: GrpcCallOptions): http2.OutgoingHttpHeaders {
    if (!METHOD_PATH.test(path)) {
      throw new GrpcClientError('invalid_path', `gRPC method path "${path}" must look like /package.Service/Method`);
    }
    return metadataToHeaders(options.metadata);
  }

  private dispatch(call: GrpcCall): void {
    if (!call.arm()) return;
    call.onRetry = (c) => this.enqueue(c);
    this.enqueue(call);
  }

  private enqueue(call: GrpcCall): void {
    if (this.closed) return call.fail(GrpcCode.UNAVAILABLE, `Channel to ${this.target} is closed`);
    const now = Date.now();
    if (now < this.downUntil) {
      return call.fail(GrpcCode.UNAVAILABLE,
        `${this.target} is unavailable (${this.lastError}); next connection attempt in ${this.downUntil - now} ms`, this.lastCause);
    }
    const slot = this.slot ?? this.connect();
    if (slot.ready && slot.active < slot.limit && this.queue.size === 0) return this.startOn(slot, call);
    if (this.queue.size >= this.opts.maxQueuedCalls) {
      return call.fail(GrpcCode.RESOURCE_EXHAUSTED, `Too many calls waiting for ${this.target} (limit ${this.opts.maxQueuedCalls})`);
    }
    this.queue.add(call);
    call.onDequeue = () => { this.queue.delete(call); };
  }

  private startOn(slot: SessionSlot, call: GrpcCall): void {
    call.onDequeue = null;
    slot.active++;
    call.start(slot.session, () => {
      slot.active--;
      this.pump();
    });
  }

  /** Starts queued calls while the current session has free stream slots. */
  private pump(): void {
    if (this.pumping || this.queue.size === 0 || this.closed) return;
    if (this.slot === null) {
      if (Date.now() >= this.downUntil) this.connect();
      return;
    }
    const slot = this.slot;
    if (!slot.ready) return;
    this.pumping = true;
    try {
      for (const call of this.queue) {
        if (slot.active >= slot.limit || this.slot !== slot) break;
        this.queue.delete(call);
        this.startOn(slot, call);
      }
    } finally {
      this.pumping = false;
    }
  }

  private connect(): SessionSlot {
    const slot = openSlot(this.origin, this.opts, this.slotEvents, this.tls);
    this.slot = slot;
    this.sessions.add(slot.session);
    return slot;
  }

  private readonly slotEvents: SlotEvents = {
    settings: (_slot, first) => {
      if (first) {
        this.failures = 0;
        this.downUntil = 0;
        this.lastCause = null;
      }
      this.pump();
    },
    goaway: (slot) => this.retire(slot),
    closed: (slot) => {
      this.sessions.delete(slot.session);
      this.retire(slot);
      if (!slot.ready && !this.closed) this.connectFailed(slot.error);
    },
  };

  /** Forgets `slot` as the current session; queued calls move to a new one. */
  private retire(slot: SessionSlot): void {
    if (this.slot === slot) this.slot = null;
    if (slot.ready) this.pump();
  }

  private connectFailed(err: Error | null): void {
    this.failures++;
    const delay = Math.min(this.opts.backoffInitialMs * 2 ** Math.min(this.failures - 1, 30), this.opts.backoffMaxMs);
    this.downUntil = Date.now() + delay;
    this.lastError = err?.message ?? 'connection closed before HTTP/2 SETTINGS';
    this.lastCause = err;
    this.failQueued(GrpcCode.UNAVAILABLE, `Failed to connect to ${this.target}: ${this.lastError}`, err);
  }

  private failQueued(code: number, message: string, cause: Error | null = null): void {
    const calls = [...this.queue];
    this.queue.clear();
    for (const call of calls) {
      call.onDequeue = null;
      call.fail(code, message, cause);
    }
  }
}

function noop(): void {}
