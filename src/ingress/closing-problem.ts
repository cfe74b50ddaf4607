import type { HttpResponse } from 'uWebSockets.js';
import type { GatewayError } from '../errors/gateway-error.js';
import { problemBody, writeProblem, writeProblemHead } from '../response/problem.js';
import type { RequestContext } from './request-context.js';
import { markFinished } from '../response/response-writer.js';

/** Accounts for a finished request (the request handler's `complete`). */
type Complete = (ctx: RequestContext) => void;

/**
 * Size the body of a problem answer to a request with broken framing is
 * padded to (trailing JSON whitespace). It must exceed uWS's cork buffer
 * (LoopData::CORK_BUFFER_SIZE, 16 KiB): one write larger than what is left
 * of that buffer makes uWS send the buffer and the write to the socket at
 * once (AsyncSocket::write → uncork) instead of at the end of the read.
 */
export const CLOSING_BODY_BYTES = 16 * 1024 + 1;

/**
 * Answers with a problem response and closes the connection so that uWS
 * dispatches nothing more from it. For requests whose following bytes cannot
 * be trusted to start a new request (broken framing) or whose body the
 * gateway will not read.
 *
 * Why not `res.end(body, true)`: uWS corks the socket while it parses a
 * read, so inside the request handler, a body callback or a microtask right
 * after either, the answer only reaches the cork buffer and `end(…, true)`
 * merely flags the connection for closing. The parser then dispatches the
 * next request of the same read, which resets the connection's state, flag
 * included: that request was proxied and answered (measured: `POST` with
 * `Content-Length: 0` and `Content-Length: 45`, then `GET /smuggled` in one
 * packet got 400, then the upstream's 200). `res.close()` after `end` is
 * impossible (uWS.js invalidates the response) and closing before the cork
 * is flushed drops the answer.
 *
 * Broken framing (invalid or repeated Content-Length, Transfer-Encoding
 * other than `chunked` or together with Content-Length), non-HEAD: the
 * complete answer is written at once, its body padded to
 * {@link CLOSING_BODY_BYTES} so uWS sends it now; the last byte goes to
 * `tryEnd` with a total one larger than the Content-Length already sent, so
 * uWS keeps the response pending and the object usable; then `res.close()`.
 * The parser sees a closed socket and stops.
 *
 * Everything else (the framing is sound but the body is refused or unread,
 * and HEAD, which has no body to pad): the request stays pending until the
 * check phase, after uWS has parsed the rest of the read. A request arriving
 * meanwhile makes uWS close the connection itself (HttpContext.h: "denying
 * async pipelining"), unanswered; otherwise the answer is written then and
 * the connection closed. Not padded: the padded answer followed by an
 * immediate close made a client still uploading more likely to see the
 * reset before the end of the answer.
 */
export function closeWithProblem(complete: Complete, ctx: RequestContext, err: GatewayError, allow: string | null): void {
  markFinished(ctx);
  if (ctx.method !== 'HEAD' && framingBroken(ctx)) answerAndClose(complete, ctx, err, allow, true);
  else setImmediate(answerAfterRead, complete, ctx, err, allow);
}

/** Whether the request's body length cannot be trusted (see request-handler route()). */
function framingBroken(ctx: RequestContext): boolean {
  if (ctx.contentLength === -2) return true;
  return ctx.transferEncoding !== '' && (ctx.contentLength >= 0 || ctx.transferEncoding.toLowerCase() !== 'chunked');
}

/** The deferred answer (see {@link closeWithProblem}). */
function answerAfterRead(complete: Complete, ctx: RequestContext, err: GatewayError, allow: string | null): void {
  // uWS closed the connection because another request followed: nothing to answer.
  if (ctx.aborted) return;
  answerAndClose(complete, ctx, err, allow, false);
}

function answerAndClose(complete: Complete, ctx: RequestContext, err: GatewayError, allow: string | null, padded: boolean): void {
  const res = ctx.res;
  closing.ctx = ctx; closing.err = err; closing.allow = allow; closing.padded = padded;
  try {
    res.cork(writeClosingCorked);
  } catch {
    // The response is no longer usable (never expected here): close regardless.
  }
  closing.ctx = null;
  // Accounted before the close, whose onAborted would otherwise report a 499.
  complete(ctx);
  // HEAD: endWithoutBody finished the response and uWS closes after the flush.
  if (ctx.method !== 'HEAD') closeQuietly(res);
}

function closeQuietly(res: HttpResponse): void {
  try {
    res.close();
  } catch {
    // Already closed by uWS (its onAborted ran) or no longer ours.
  }
}

// why: res.cork takes a callback; a module-level function reading these
// fields avoids a closure per response. cork runs it synchronously.
const closing = { ctx: null as RequestContext | null, err: null as unknown as GatewayError, allow: null as string | null, padded: false };

function writeClosingCorked(): void {
  const ctx = closing.ctx!;
  const res = ctx.res;
  if (ctx.method === 'HEAD') {
    writeProblem(res, closing.err, ctx.path, ctx.requestId, closing.allow, true, true, ctx.responseHeaders, ctx.traceId);
    return;
  }
  writeProblemHead(res, closing.err, ctx.requestId, closing.allow, ctx.responseHeaders);
  res.writeHeader('connection', 'close');
  const json = problemBody(closing.err, ctx.path, ctx.requestId, ctx.traceId);
  const body = closing.padded ? paddedBody(json) : Buffer.from(json);
  const n = body.length;
  ctx.bytesOut += n;
  const [ok] = res.tryEnd(body.subarray(0, n - 1), n);
  // A short write (the client is not reading) leaves the response unfinished
  // anyway; the close follows either way.
  if (ok) res.tryEnd(body.subarray(n - 1), n + 1);
}

/** The problem document followed by spaces up to {@link CLOSING_BODY_BYTES}. */
function paddedBody(json: string): Buffer {
  const len = Buffer.byteLength(json);
  const out = Buffer.allocUnsafe(Math.max(len, CLOSING_BODY_BYTES));
  out.write(json, 0, 'utf8');
  out.fill(0x20, len);
  return out;
}
