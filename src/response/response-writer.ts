/**
 * The one response writer: the only code that writes status lines and
 * headers to uWS, runs the responseHead phase on what it writes, and marks a
 * request finished. Terminals (the proxy exchange, the transcoder) call it for
 * the head and write only body bytes themselves.
 *
 * Every function that writes must run inside `res.cork` (or the synchronous
 * part of the uWS handler).
 */
import type { HttpResponse } from 'uWebSockets.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import { LocalResponse } from '../policies/local-response.js';
import { policyFailure, runProblemHead, runResponseHead } from '../policies/run-phases.js';
import { runWholeBody } from '../policies/body-gate.js';
import type { BufferedResponse, PolicyInstance, ResponseHead, Verdict } from '../policies/types.js';
import { isDroppedResponseHeader } from '../upstream/forward-headers.js';
import { PROBLEM_CONTENT_TYPE, problemBody, writeProblem } from './problem.js';
import { statusLine } from './status-lines.js';
import { closeWithProblem } from '../ingress/closing-problem.js';

/** Reports a policy that threw where no answer can change any more (logging). */
export type PolicyErrorReporter = (name: string, err: unknown) => void;

/** Marks the response complete (the single place `ctx.finished` is set). */
export function markFinished(ctx: RequestContext): void {
  ctx.finished = true;
}

/** Cuts the client connection (a response that cannot be completed honestly) and marks it finished. */
export function cutConnection(ctx: RequestContext): void {
  if (ctx.finished && ctx.aborted) return;
  ctx.finished = true;
  try { ctx.res.close(); } catch { /* already gone */ }
}

/**
 * Writes an upstream response head exactly as received (the fast path of a
 * route without responseHead policies): hop-by-hop and framing headers
 * dropped, x-request-id added when the upstream sent none, then the headers
 * policies added to the context.
 */
export function writeRawHead(ctx: RequestContext, status: number, raw: readonly Buffer[], hasRequestId: boolean): void {
  const res = ctx.res;
  ctx.status = status;
  res.writeStatus(statusLine(status));
  for (let i = 0; i < raw.length; i += 2) {
    if (!isDroppedResponseHeader(raw[i])) res.writeHeader(raw[i], raw[i + 1]);
  }
  if (!hasRequestId) res.writeHeader('x-request-id', ctx.requestId);
  writeExtra(res, ctx.responseHeaders);
}

/**
 * An upstream head as a mutable {@link ResponseHead} (routes with response
 * policies): names lower-cased, hop-by-hop and framing headers dropped,
 * values latin1 (one char per byte), then the headers policies added to the
 * context (so response policies see and may edit them too).
 */
export function headFromRaw(ctx: RequestContext, status: number, raw: readonly Buffer[]): ResponseHead {
  const headers: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (!isDroppedResponseHeader(raw[i])) headers.push(raw[i].toString('latin1').toLowerCase(), raw[i + 1].toString('latin1'));
  }
  return { status, headers: withExtra(ctx, headers) };
}

/** A head for the gateway's own answer: `headers` plus the headers policies added to the context. */
export function ownHead(ctx: RequestContext, status: number, headers: string[]): ResponseHead {
  return { status, headers: withExtra(ctx, headers) };
}

function withExtra(ctx: RequestContext, headers: string[]): string[] {
  const extra = ctx.responseHeaders;
  if (extra !== null) for (let i = 0; i < extra.length; i++) headers.push(extra[i]);
  return headers;
}

/**
 * Writes a head policies have seen (built by headFromRaw / ownHead, so it
 * already holds the context's extra headers): its headers, then
 * x-request-id unless present.
 */
export function writeHead(ctx: RequestContext, head: ResponseHead): void {
  const res = ctx.res;
  const h = head.headers;
  ctx.status = head.status;
  res.writeStatus(statusLine(head.status));
  let hasId = false;
  for (let i = 0; i < h.length; i += 2) {
    if (h[i] === 'x-request-id') hasId = true;
    res.writeHeader(h[i], headerBytes(h[i + 1]));
  }
  if (!hasId && ctx.requestId !== '') res.writeHeader('x-request-id', ctx.requestId);
}

/**
 * A header value as uWS should write it. Values are latin1 strings (one
 * char per byte, as {@link headFromRaw} decodes upstream bytes); uWS writes a
 * string as UTF-8, which would double-encode bytes >= 0x80, so such a value
 * goes out as the bytes it stands for.
 */
function headerBytes(v: string): string | Buffer {
  for (let i = 0; i < v.length; i++) if (v.charCodeAt(i) > 127) return Buffer.from(v, 'latin1');
  return v;
}

function writeExtra(res: HttpResponse, extra: readonly string[] | null): void {
  if (extra !== null) for (let i = 0; i < extra.length; i += 2) res.writeHeader(extra[i], extra[i + 1]);
}

/**
 * Ends a response that has no body and no Content-Length (1xx, 204, 304).
 * why: uWS.js turns an explicit `undefined` length into a bogus
 * `Content-Length: 9223372036854775808`; only a call without arguments leaves
 * the header out. Closing needs the two-argument form, whose `0` is harmless.
 */
export function endEmpty(res: HttpResponse, close: boolean): void {
  if (close) res.endWithoutBody(0, true);
  else res.endWithoutBody();
}

/**
 * Writes the gateway's own answers (problems and local responses) and holds
 * the per-worker hooks they need.
 */
export class ResponseWriter {
  /**
   * @param complete accounts for a finished request (the request handler's).
   * @param bodyUnread whether the request declared a body that was not read to its end.
   * @param draining whether the worker is draining (every response closes its connection).
   * @param onPolicyError where a responseHead policy's exception goes when it cannot change the answer.
   */
  constructor(
    private readonly complete: (ctx: RequestContext) => void,
    private readonly bodyUnread: (ctx: RequestContext) => boolean,
    private readonly draining: () => boolean,
    private readonly onPolicyError: PolicyErrorReporter,
  ) {}

  /** Whether the connection must close after this response: draining, or the body was not read to its end. */
  closeAfter(ctx: RequestContext): boolean {
    return this.draining() || this.bodyUnread(ctx);
  }

  /** Answers with a verdict: a problem or a local response. */
  answer(ctx: RequestContext, verdict: Exclude<Verdict, undefined>, close: boolean): void {
    if (verdict instanceof LocalResponse) this.local(ctx, verdict, close);
    else this.problem(ctx, verdict, null, close);
  }

  /**
   * Answers with problem+json unless the request was already answered or
   * aborted. When the connection must close (a framing error, a refused or
   * unread body) nothing after this request may be read from it:
   * closing-problem.ts answers and closes at once.
   */
  problem(ctx: RequestContext, err: GatewayError, allow: string | null, close: boolean): void {
    if (ctx.finished || ctx.aborted) return;
    ctx.status = err.status;
    if (close || this.bodyUnread(ctx)) return closeWithProblem(this.complete, ctx, err, allow);
    const chain = ctx.chain;
    args.head = null;
    if (ctx.terminalStarted && chain !== null && chain.responseHead !== null) {
      // The terminal's own failure (an upstream error): a policy may answer
      // with a local response instead (a stale cached entry). why here, outside
      // the cork: that answer goes through the body phase when the route has
      // one, which may be asynchronous.
      const head = terminalProblemHead(ctx, err, allow);
      const local = runProblemHead(chain.responseHead, ctx, head, this.onPolicyError);
      if (local !== undefined) return this.local(ctx, local, false);
      args.head = head;
    }
    args.w = this; args.ctx = ctx; args.err = err; args.allow = allow;
    args.close = this.draining();
    ctx.res.cork(problemCorked);
    markFinished(ctx);
    this.complete(ctx);
  }

  /** Answers with a policy's local response. */
  local(ctx: RequestContext, r: LocalResponse, close: boolean): void {
    if (ctx.finished || ctx.aborted) return;
    const chain = ctx.chain;
    // why HEAD too: the body is at hand, so the length a HEAD announces is the transformed GET's.
    if (r.bodyPhase && chain !== null && chain.responseBody !== null && r.status >= 200 && r.status !== 204 && r.status !== 304) {
      return this.localThroughBody(ctx, r, chain.responseBody, close);
    }
    ctx.status = r.status;
    args.w = this; args.ctx = ctx; args.local = r;
    args.close = close || this.closeAfter(ctx);
    ctx.res.cork(localCorked);
    markFinished(ctx);
    this.complete(ctx);
  }

  /**
   * A local answer that stands for an upstream response (a cache hit): the
   * responseHead phase, then the body phase (body-gate.ts), then the write.
   */
  private localThroughBody(ctx: RequestContext, r: LocalResponse, chain: readonly PolicyInstance[], close: boolean): void {
    const head = ownHead(ctx, r.status, r.headers.slice());
    this.headPhase(ctx, head);
    const res: BufferedResponse = { status: head.status, headers: head.headers, body: typeof r.body === 'string' ? Buffer.from(r.body) : r.body };
    const v = runWholeBody(chain, ctx, res, ctx.route === null ? 0 : ctx.route.maxBodyBytes ?? 0);
    if (v instanceof Promise) {
      v.then((x) => this.localBodyDone(ctx, x, res, close), (err: unknown) => this.localBodyDone(ctx, policyFailure('responseBody', err), res, close));
    } else this.localBodyDone(ctx, v, res, close);
  }

  private localBodyDone(ctx: RequestContext, v: Verdict, res: BufferedResponse, close: boolean): void {
    if (ctx.finished || ctx.aborted) return;
    if (v !== undefined) {
      if (v instanceof GatewayError && v.status === 500 && v.cause !== undefined) this.onPolicyError(v.detail ?? 'responseBody', v.cause);
      return this.answer(ctx, v instanceof LocalResponse ? new LocalResponse(v.status, v.headers, v.body) : v, close);
    }
    ctx.status = res.status;
    args.w = this; args.ctx = ctx; args.res = res;
    args.close = close || this.closeAfter(ctx);
    ctx.res.cork(bodyCorked);
    markFinished(ctx);
    this.complete(ctx);
  }

  /** Cuts the connection of a response that cannot be completed honestly, and accounts for it. */
  cut(ctx: RequestContext): void {
    if (ctx.aborted) return;
    cutConnection(ctx);
    this.complete(ctx);
  }

  /** Runs the route's responseHead policies on a head that can no longer be replaced. */
  headPhase(ctx: RequestContext, head: ResponseHead): void {
    const chain = ctx.chain;
    if (chain !== null && chain.responseHead !== null) runResponseHead(chain.responseHead, ctx, head, false, this.onPolicyError);
  }

  /** Inside cork: a problem document (the fast writer unless the route has responseHead policies). */
  writeProblemNow(ctx: RequestContext, err: GatewayError, allow: string | null, close: boolean, seen: ResponseHead | null = null): void {
    // The head policies already saw (problem() runs the phase before the cork for a terminal's problem).
    if (seen !== null) { this.endWith(ctx, seen, problemBody(err, ctx.path, ctx.requestId, ctx.traceId), close); return; }
    const chain = ctx.chain;
    if (chain === null || chain.responseHead === null) {
      ctx.bytesOut += writeProblem(ctx.res, err, ctx.path, ctx.requestId, allow, close, ctx.method === 'HEAD', ctx.responseHeaders, ctx.traceId);
      return;
    }
    const head = ownHead(ctx, err.status, problemHeaders(allow));
    this.headPhase(ctx, head);
    this.endWith(ctx, head, problemBody(err, ctx.path, ctx.requestId, ctx.traceId), close);
  }

  /** Inside cork: a local response, after the responseHead phase. */
  writeLocalNow(ctx: RequestContext, r: LocalResponse, close: boolean): void {
    const head = ownHead(ctx, r.status, r.headers.slice());
    this.headPhase(ctx, head);
    this.endWith(ctx, head, r.body, close);
  }

  /** Inside cork: writes `head` and ends with `body` (its length framed; no body for HEAD/204/304). */
  endWith(ctx: RequestContext, head: ResponseHead, body: string | Buffer, close: boolean): void {
    writeHead(ctx, head);
    const res = ctx.res;
    if (head.status === 204 || head.status === 304 || head.status < 200) endEmpty(res, close);
    else if (ctx.method === 'HEAD') res.endWithoutBody(typeof body === 'string' ? Buffer.byteLength(body) : body.length, close);
    else {
      ctx.bytesOut += typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      res.end(body, close);
    }
  }
}

// why: res.cork takes a callback; module-level functions reading these
// fields avoid a closure per answer. cork runs them synchronously.
const args = {
  w: null as unknown as ResponseWriter, ctx: null as unknown as RequestContext,
  err: null as unknown as GatewayError, allow: null as string | null, close: false, local: null as unknown as LocalResponse,
  head: null as ResponseHead | null, res: null as unknown as BufferedResponse,
};
function problemCorked(): void {
  args.w.writeProblemNow(args.ctx, args.err, args.allow, args.close, args.head);
}
function bodyCorked(): void {
  args.w.endWith(args.ctx, args.res, args.res.body, args.close);
}

/** The head of a problem the terminal produced (`problem` set: a policy may replace it). */
function terminalProblemHead(ctx: RequestContext, err: GatewayError, allow: string | null): ResponseHead {
  return { status: err.status, headers: withExtra(ctx, problemHeaders(allow)), problem: err };
}

/** A problem document's own headers (a fresh list: policies edit it). */
function problemHeaders(allow: string | null): string[] {
  const own = ['content-type', PROBLEM_CONTENT_TYPE, 'cache-control', 'no-store'];
  if (allow !== null) own.push('allow', allow);
  return own;
}
function localCorked(): void {
  args.w.writeLocalNow(args.ctx, args.local, args.close);
}
