/**
 * One gRPC call on one HTTP/2 stream: request headers and the framed
 * request, response headers / DATA / trailers, the local deadline and
 * cancellation, and the final status. Unary and server-streaming calls both
 * use it with a different {@link CallSink}.
 */
import http2 from 'node:http2';
import { FrameDecoder, framePrefix } from './grpc-frame.js';
import {
  decodeGrpcMessage, encodeGrpcTimeout, headerRecord, readGrpcStatus, readStatusDetails, statusFromRstCode,
  type GrpcStatus,
} from './grpc-wire.js';
import { GrpcCode, grpcStatusFromHttp } from './status-map.js';

/** Receives a call's events; each fires only before `onEnd`, `onEnd` exactly once. */
export interface CallSink {
  onHeaders(headers: Record<string, string>): void;
  onMessage(message: Uint8Array): void;
  onEnd(status: GrpcStatus): void;
}

/** Per-channel settings a call needs. */
export interface CallSettings {
  readonly target: string;
  readonly userAgent: string;
  readonly maxReceiveMessageBytes: number;
}

/** Per-call options (see GrpcChannel.unary). */
export interface GrpcCallOptions {
  /** Deadline in ms from the call (sent as grpc-timeout and enforced locally, queueing included). */
  deadlineMs?: number;
  /** Metadata; `-bin` keys take bytes or a base64 string. Repeated names are sent repeated. */
  metadata?: ReadonlyArray<readonly [string, string | Uint8Array]>;
  /** Aborting cancels the call (status CANCELLED, stream reset). */
  signal?: AbortSignal;
}

const { NGHTTP2_CANCEL, NGHTTP2_REFUSED_STREAM } = http2.constants;
const MAX_TIMER_MS = 2_147_483_647;
const MAX_TRANSPARENT_RETRIES = 2;

function isGrpcContentType(value: string | undefined): boolean {
  if (value === undefined || !value.startsWith('application/grpc')) return false;
  const next = value.charCodeAt(16);
  return Number.isNaN(next) || next === 43 /* + */ || next === 59 /* ; */;
}

/** A gRPC call; created, armed and dispatched by GrpcChannel. */
export class GrpcCall {
  done = false;
  /** Set by the channel: removes a queued call from its queue. */
  onDequeue: (() => void) | null = null;
  /** Set by the channel: dispatches the call again after the server refused its stream unprocessed. */
  onRetry: ((call: GrpcCall) => void) | null = null;
  private readonly settings: CallSettings;
  private readonly path: string;
  private readonly message: Uint8Array;
  private readonly metadata: http2.OutgoingHttpHeaders;
  private readonly deadlineMs: number | undefined;
  private readonly deadlineAt: number;
  private readonly signal: AbortSignal | undefined;
  private readonly sink: CallSink;
  private readonly decoder: FrameDecoder;
  private timer: NodeJS.Timeout | null = null;
  private stream: http2.ClientHttp2Stream | null = null;
  private session: http2.ClientHttp2Session | null = null;
  private httpStatus = 0;
  private grpcBody = false;
  private headers: Record<string, string> = {};
  private trailers: Record<string, string> | null = null;
  private streamError: Error | null = null;
  private paused = false;
  private retries = 0;
  private readonly onAbort = (): void => { this.fail(GrpcCode.CANCELLED, 'Call cancelled by the caller'); };
  private readonly emit = (message: Uint8Array): void => { if (!this.done) this.sink.onMessage(message); };

  constructor(settings: CallSettings, path: string, message: Uint8Array, metadata: http2.OutgoingHttpHeaders,
    options: GrpcCallOptions, sink: CallSink) {
    this.settings = settings;
    this.path = path;
    this.message = message;
    this.metadata = metadata;
    this.deadlineMs = options.deadlineMs;
    this.deadlineAt = options.deadlineMs === undefined ? Infinity : Date.now() + options.deadlineMs;
    this.signal = options.signal;
    this.sink = sink;
    this.decoder = new FrameDecoder(settings.maxReceiveMessageBytes);
  }

  /** Starts the deadline and abort watch; false when the call already ended (aborted or no time left). */
  arm(): boolean {
    if (this.signal?.aborted) {
      this.onAbort();
      return false;
    }
    if (this.deadlineMs !== undefined) {
      if (this.deadlineMs <= 0) {
        this.fail(GrpcCode.DEADLINE_EXCEEDED, `Deadline exceeded: deadline of ${this.deadlineMs} ms already passed`);
        return false;
      }
      if (this.deadlineMs <= MAX_TIMER_MS) {
        this.timer = setTimeout(() => {
          this.fail(GrpcCode.DEADLINE_EXCEEDED, `Deadline exceeded after ${this.deadlineMs} ms calling ${this.settings.target}${this.path}`);
        }, this.deadlineMs);
      }
    }
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    return true;
  }

  /** Bytes received but not yet handed to the sink (partial frame + stream buffer). */
  get pendingBytes(): number {
    return this.decoder.pendingBytes + (this.stream?.readableLength ?? 0);
  }

  /** Stops reading DATA (HTTP/2 flow control then stops the server). */
  pause(): void {
    this.paused = true;
    this.stream?.pause();
  }

  /** Resumes reading after {@link pause}. */
  resume(): void {
    this.paused = false;
    this.stream?.resume();
  }

  /**
   * Ends the call locally with `code`, resetting the stream if one is open.
   * `cause`: the connection error behind an UNAVAILABLE (see GrpcStatus.cause).
   */
  fail(code: number, message: string, cause: Error | null = null): void {
    if (this.done) return;
    const stream = this.stream;
    if (stream !== null && !stream.closed && !stream.destroyed) stream.close(NGHTTP2_CANCEL);
    if (stream === null) this.onDequeue?.();
    this.finish(code, message, null, cause);
  }

  /** Opens the stream on `session` and sends the request; `release` runs once when the stream closes. */
  start(session: http2.ClientHttp2Session, release: () => void): void {
    if (this.done) {
      release();
      return;
    }
    const headers: http2.OutgoingHttpHeaders = {
      ...this.metadata,
      ':method': 'POST', ':path': this.path,
      'content-type': 'application/grpc', te: 'trailers',
      'user-agent': this.settings.userAgent, 'grpc-accept-encoding': 'identity',
    };
    if (this.deadlineAt !== Infinity) headers['grpc-timeout'] = encodeGrpcTimeout(this.deadlineAt - Date.now());
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: false });
    } catch (err) {
      release();
      this.finish(GrpcCode.UNAVAILABLE, `Could not open a stream to ${this.settings.target}: ${(err as Error).message}`, null, err as Error);
      return;
    }
    this.stream = stream;
    this.session = session;
    stream.on('response', (h) => this.onResponse(h));
    stream.on('trailers', (t) => { this.trailers = headerRecord(t); });
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('error', (err: Error) => { this.streamError ??= err; });
    stream.once('close', () => {
      release();
      this.onClose(stream);
    });
    if (this.paused) stream.pause();
    // why: cork + write + end hands prefix and message to one writev, so the
    // message is never copied into a combined frame buffer.
    stream.cork();
    stream.write(framePrefix(this.message.byteLength));
    stream.end(this.message);
  }

  private onResponse(raw: http2.IncomingHttpHeaders): void {
    this.httpStatus = Number(raw[':status']);
    const block = headerRecord(raw);
    this.grpcBody = this.httpStatus === 200 && isGrpcContentType(block['content-type']);
    if (this.httpStatus === 200 && block['grpc-status'] !== undefined) {
      this.trailers = block; // trailers-only response
      return;
    }
    this.headers = block;
    if (!this.done && this.grpcBody) this.sink.onHeaders(block);
  }

  private onData(chunk: Buffer): void {
    if (this.done || !this.grpcBody) return; // why: a non-gRPC body (HTML error page) is not framed; drop it
    const error = this.decoder.push(chunk, this.emit);
    if (error !== null) this.fail(error.code, error.message);
  }

  private onClose(stream: http2.ClientHttp2Stream): void {
    if (this.done) return;
    const target = this.settings.target;
    const rstCode = stream.rstCode ?? 0;
    const lost = this.session?.destroyed === true;
    if (this.httpStatus === 0) {
      if (rstCode === NGHTTP2_REFUSED_STREAM && !lost && this.onRetry !== null && this.retries < MAX_TRANSPARENT_RETRIES) {
        this.retries++;
        this.stream = null;
        this.onRetry(this); // why: a refused stream was never processed, so it is safe to send again
        return;
      }
      if (!lost && rstCode !== 0) {
        const s = statusFromRstCode(rstCode, target);
        this.finish(s.code, s.message, null);
      } else if (lost || this.streamError !== null) {
        const why = this.streamError?.message ?? 'connection closed';
        this.finish(GrpcCode.UNAVAILABLE, `Connection to ${target} lost before a response: ${why}`, null, this.streamError);
      } else {
        this.finish(GrpcCode.INTERNAL, `${target} closed the stream without a response`, null);
      }
      return;
    }
    if (this.httpStatus !== 200) {
      this.finish(grpcStatusFromHttp(this.httpStatus), `Received HTTP status ${this.httpStatus} from ${target}`, null);
      return;
    }
    const trailers = this.trailers;
    const code = trailers === null ? undefined : readGrpcStatus(trailers);
    if (trailers !== null && code !== undefined) {
      if (code === GrpcCode.OK && !this.decoder.atBoundary) {
        this.finish(GrpcCode.INTERNAL, `${target} ended the stream in the middle of a message`, null);
        return;
      }
      this.finish(code, decodeGrpcMessage(trailers['grpc-message'] ?? ''), readStatusDetails(trailers));
    } else if (!this.grpcBody) {
      const type = this.headers['content-type'] ?? '(none)';
      this.finish(GrpcCode.UNKNOWN, `${target} sent a non-gRPC response (content-type ${type})`, null);
    } else if (lost) {
      this.finish(GrpcCode.UNAVAILABLE, `Connection to ${target} lost during the call: ${this.streamError?.message ?? 'connection closed'}`, null, this.streamError);
    } else if (rstCode !== 0) {
      const s = statusFromRstCode(rstCode, target);
      this.finish(s.code, s.message, null);
    } else {
      this.finish(GrpcCode.INTERNAL, `${target} ended the stream without a grpc-status trailer`, null);
    }
  }

  private finish(code: number, message: string, details: Uint8Array | null, cause: Error | null = null): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.signal?.removeEventListener('abort', this.onAbort);
    this.sink.onEnd({ status: code, message, headers: this.headers, trailers: this.trailers ?? {}, details, sent: this.stream !== null, cause });
  }
}
