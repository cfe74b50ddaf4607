/**
 * One transcoded request: body → request message → gRPC call → JSON answer
 * (or an NDJSON / JSON-array stream for server-streaming methods).
 * Everything after the first await re-checks `ctx.aborted` before touching
 * the uWS response (uWS forbids using an aborted response).
 */
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import type { CompiledRoute } from '../router/index.js';
import { markFinished, writeHead, type ResponseWriter } from '../response/response-writer.js';
import type { ResponseHead } from '../policies/types.js';
import type { GrpcChannel } from './grpc-client/index.js';
import { grpcProblem, requestMetadata, requestObject, responseField, responseMetadata, type TranscodeEntry } from './transcoder.js';
import type { HttpBinding } from './http-rule/index.js';

/** What a call reports back to the request handler. */
export interface TranscodeSink {
  problem(ctx: RequestContext, err: GatewayError, allow: string | null, close: boolean): void;
  complete(ctx: RequestContext): void;
  /** The response writer (heads go through it, with the route's responseHead policies). */
  readonly writer: ResponseWriter;
}

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
  private readonly received: number;
  private readonly ac = new AbortController();
  private cancelStream: (() => void) | null = null;

  constructor(
    private readonly ctx: RequestContext, private readonly route: CompiledRoute, private readonly entry: TranscodeEntry,
    private readonly binding: HttpBinding, private readonly vars: Array<[string, string]>, private readonly sink: TranscodeSink,
    /** The whole request body (the ingress buffered it), or null. */
    private readonly body: Buffer | null,
  ) {
    this.received = body === null ? 0 : body.length;
  }

  /** Registers the abort hook and runs the call. */
  begin(): void {
    this.ctx.abortHook = () => { this.ac.abort(); this.cancelStream?.(); };
    void this.run();
  }

  private async run(): Promise<void> {
    const { ctx, entry, binding: b } = this;
    try {
      let body: unknown;
      if (b.body !== '' && this.received > 0) {
        const text = this.body!.toString('utf8');
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
      this.writeHead('application/json', meta);
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
        if (!started) this.writeHead(ndjson ? 'application/x-ndjson' : 'application/json', responseMetadata(entry, {}, {}));
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
      if (!started) this.writeHead(ndjson ? 'application/x-ndjson' : 'application/json', {});
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

  /** Writes the 200 head through the response writer (with the route's responseHead policies). */
  private writeHead(contentType: string, meta: Record<string, string>): void {
    const head: ResponseHead = { status: 200, headers: ['content-type', contentType] };
    for (const [k, v] of Object.entries(meta)) head.headers.push(k, v);
    this.sink.writer.headPhase(this.ctx, head);
    writeHead(this.ctx, head);
  }

  private finish(status: number): void {
    this.ctx.status = status;
    markFinished(this.ctx);
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
