/**
 * One transcoded request: body → request message → gRPC call → JSON answer
 * (or an NDJSON / JSON-array stream for server-streaming methods).
 * Everything after the first await re-checks `ctx.aborted` before touching
 * the uWS response (uWS forbids using an aborted response).
 */
import type { HttpResponse } from 'uWebSockets.js';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import type { CompiledRoute } from '../router/index.js';
import { statusLine } from '../response/status-lines.js';
import type { GrpcChannel } from './grpc-client/index.js';
import { grpcProblem, requestMetadata, requestObject, responseField, responseMetadata, type TranscodeEntry } from './transcoder.js';
import type { HttpBinding } from './http-rule/index.js';

/** What a call reports back to the request handler. */
export interface TranscodeSink {
  problem(ctx: RequestContext, err: GatewayError, allow: string | null, close: boolean): void;
  complete(ctx: RequestContext): void;
  /** Largest request body accepted, bytes (0 = unlimited). */
  readonly maxBodyBytes: number;
}

const ERR_TOO_LARGE = new GatewayError(ErrorCodes.PAYLOAD_TOO_LARGE);

function typeName(t: { fullName: string }): string {
  return t.fullName.startsWith('.') ? t.fullName.slice(1) : t.fullName;
}

/** A client-input error from the mapping layers (code invalid_argument or a query/path/body rule) → 400, else 500. */
function inputProblem(err: unknown): GatewayError {
  const e = err as { code?: string; message?: string };
  if (err instanceof GatewayError) return err;
  if (typeof e.code === 'string' && e.code !== 'internal' && e.code !== 'closed' && e.code !== 'unknown_type') {
    return new GatewayError(ErrorCodes.TRANSCODE_BAD_REQUEST, e.message);
  }
  return new GatewayError(ErrorCodes.INTERNAL, e.message, { cause: err });
}

/** One transcoded exchange (see the file comment). */
export class TranscodeCall {
  private readonly chunks: Buffer[] = [];
  private received = 0;
  private done = false;
  private readonly ac = new AbortController();
  private cancelStream: (() => void) | null = null;

  constructor(
    private readonly ctx: RequestContext, private readonly route: CompiledRoute, private readonly entry: TranscodeEntry,
    private readonly binding: HttpBinding, private readonly vars: Array<[string, string]>, private readonly sink: TranscodeSink,
  ) {}

  /** Registers the body reader (synchronously, as uWS requires) and the abort hook. */
  begin(): void {
    const ctx = this.ctx;
    ctx.abortHook = () => { this.ac.abort(); this.cancelStream?.(); };
    if (ctx.contentLength > 0 || ctx.transferEncoding !== '') {
      ctx.res.onData((chunk, last) => this.onData(chunk, last));
    } else this.bodyDone();
  }

  private onData(chunk: ArrayBuffer, last: boolean): void {
    if (this.done || this.ctx.finished) return;
    this.received += chunk.byteLength;
    const max = this.sink.maxBodyBytes;
    if (max > 0 && this.received > max) {
      this.done = true;
      this.sink.problem(this.ctx, ERR_TOO_LARGE, null, true);
      return;
    }
    // why: uWS reuses the chunk's memory after this callback.
    this.chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (last) this.bodyDone();
  }

  private bodyDone(): void {
    if (this.ctx.gated) {
      this.ctx.resume = () => { void this.run(); };
      return;
    }
    void this.run();
  }

  private async run(): Promise<void> {
    const { ctx, entry, binding: b } = this;
    try {
      let body: unknown;
      if (b.body !== '' && this.received > 0) {
        const text = Buffer.concat(this.chunks, this.received).toString('utf8');
        try {
          body = JSON.parse(text);
        } catch (err) {
          throw new GatewayError(ErrorCodes.TRANSCODE_BAD_REQUEST, `malformed JSON body: ${(err as Error).message}`);
        }
      }
      const obj = requestObject(entry, b, this.vars, ctx.query, body);
      const encoded = entry.codec.encode(typeName(b.requestType), obj, { ignoreUnknownFields: entry.cfg.unknownFields === 'ignore', sizeHint: this.received });
      const bytes = encoded instanceof Promise ? await encoded : encoded;
      if (ctx.aborted) return;
      const metadata = requestMetadata(ctx, entry.cfg.metadata);
      const channel = pickChannel(entry);
      if (b.serverStreaming) await this.stream(channel, bytes, metadata);
      else await this.unary(channel, bytes, metadata);
    } catch (err) {
      if (!ctx.aborted && !ctx.finished) this.sink.problem(ctx, inputProblem(err), null, false);
    }
  }

  private async unary(channel: GrpcChannel, bytes: Uint8Array, metadata: Array<[string, string]>): Promise<void> {
    const { ctx, entry, binding: b } = this;
    const r = await channel.unary(b.fullPath, bytes, { deadlineMs: this.route.timeout.requestMs || undefined, metadata, signal: this.ac.signal });
    if (ctx.aborted || ctx.finished) return;
    if (r.status !== 0) return this.sink.problem(ctx, grpcProblem(r.status, r.message, r.details, entry.root), null, false);
    const text = await this.decode(r.response ?? new Uint8Array(0));
    if (ctx.aborted || ctx.finished) return;
    const meta = responseMetadata(entry, r.headers, r.trailers);
    ctx.res.cork(() => {
      this.writeHead(ctx.res, 'application/json', meta);
      ctx.res.end(text);
    });
    this.finish(200);
  }

  private async stream(channel: GrpcChannel, bytes: Uint8Array, metadata: Array<[string, string]>): Promise<void> {
    const { ctx, entry, binding: b } = this;
    const ndjson = entry.cfg.streaming === 'ndjson';
    const s = channel.serverStream(b.fullPath, bytes, { deadlineMs: this.route.timeout.requestMs || undefined, metadata, signal: this.ac.signal });
    this.cancelStream = () => s.cancel();
    let started = false;
    let n = 0;
    for await (const msg of s) {
      const text = await this.decode(msg);
      if (ctx.aborted || ctx.finished) { s.cancel(); return; }
      const piece = ndjson ? text + '\n' : (n === 0 ? '[' : ',') + text;
      n++;
      let ok = true;
      ctx.res.cork(() => {
        if (!started) this.writeHead(ctx.res, ndjson ? 'application/x-ndjson' : 'application/json', responseMetadata(entry, {}, {}));
        ok = ctx.res.write(piece);
      });
      started = true;
      if (!ok) await new Promise<void>((resolve) => ctx.res.onWritable(() => { resolve(); return true; }));
      if (ctx.aborted) { s.cancel(); return; }
    }
    const st = await s.status;
    if (ctx.aborted || ctx.finished) return;
    if (!started && st.status !== 0) return this.sink.problem(ctx, grpcProblem(st.status, st.message, st.details, entry.root), null, false);
    // A stream that fails after messages went out can only say so in the body (as grpc-gateway does).
    const err = st.status === 0 ? '' : JSON.stringify({ error: { grpcCode: st.status, status: grpcProblem(st.status, st.message).status, message: st.message } });
    const tail = ndjson ? (err === '' ? '' : err + '\n') : (n === 0 ? '[' : '') + (err === '' ? '' : (n === 0 ? '' : ',') + err) + ']';
    ctx.res.cork(() => {
      if (!started) this.writeHead(ctx.res, ndjson ? 'application/x-ndjson' : 'application/json', {});
      ctx.res.end(tail);
    });
    this.finish(200);
  }

  /** The response message as JSON text (the `response_body` field only, when the binding says so). */
  private async decode(bytes: Uint8Array): Promise<string> {
    const { entry, binding: b } = this;
    const opts = { emitDefaults: entry.cfg.emitDefaults, useProtoNames: false };
    const field = responseField(b);
    if (field === '') {
      const t = entry.codec.decodeText(typeName(b.responseType), bytes, opts);
      return t instanceof Promise ? await t : t;
    }
    const d = entry.codec.decode(typeName(b.responseType), bytes, opts);
    const obj = (d instanceof Promise ? await d : d) as Record<string, unknown>;
    return JSON.stringify(obj[field] ?? null);
  }

  private writeHead(res: HttpResponse, contentType: string, meta: Record<string, string>): void {
    const ctx = this.ctx;
    res.writeStatus(statusLine(200));
    res.writeHeader('content-type', contentType);
    res.writeHeader('x-request-id', ctx.requestId);
    for (const [k, v] of Object.entries(meta)) res.writeHeader(k, v);
    const extra = ctx.responseHeaders;
    if (extra !== null) for (let i = 0; i < extra.length; i += 2) res.writeHeader(extra[i], extra[i + 1]);
  }

  private finish(status: number): void {
    this.ctx.status = status;
    this.ctx.finished = true;
    this.sink.complete(this.ctx);
  }
}

/** Round robin over the entry's targets, preferring ones not known to be down. */
function pickChannel(entry: TranscodeEntry): GrpcChannel {
  const cs = entry.channels;
  for (let i = 0; i < cs.length; i++) {
    const c = cs[entry.next++ % cs.length];
    if (c.state !== 'down') return c;
  }
  return cs[entry.next++ % cs.length];
}
