import type { HttpResponse } from 'uWebSockets.js';
import type { GatewayError } from '../errors/gateway-error.js';
import { problemBody, writeProblem, writeProblemHead } from '../response/problem.js';
import type { RequestContext } from './request-context.js';
import type { ResponseSink } from './response-sink.js';

/**
 * Size the body of a closing problem response is padded to (trailing JSON
 * whitespace). It must exceed uWS's cork buffer (LoopData::CORK_BUFFER_SIZE,
 * 16 KiB): a single write larger than what is left of that buffer makes uWS
 * send the buffer and the write to the socket at once (AsyncSocket::write →
 * uncork) instead of holding them until the whole read has been parsed.
 */
export const CLOSING_BODY_BYTES = 16 * 1024 + 1;

/**
 * Answers with a problem response and closes the connection so that uWS
 * parses and dispatches nothing more from it. Used whenever the bytes that
 * follow a request cannot be trusted to start a new request: a framing
 * error (invalid or conflicting Content-Length, Transfer-Encoding that is
 * not exactly `chunked`, both together), or a body that was not read.
 *
 * Why not `res.end(body, true)`: uWS corks the socket while it parses a
 * read, so inside the request handler (or a body callback, or a microtask
 * right after either) the response only reaches the cork buffer; `end(…,
 * true)` sees the socket corked and merely flags it for closing. The parser
 * then dispatches the next request of the same read, and dispatching resets
 * the connection's state, flag included: that request was proxied and
 * answered (measured: a `POST` with `Content-Length: 0` and
 * `Content-Length: 45` followed by `GET /smuggled` in one packet got 400,
 * then the upstream's 200). Calling `res.close()` after `end` is impossible
 * (uWS.js invalidates the response) and closing before the cork is flushed
 * drops the answer.
 *
 * What this does instead (non-HEAD): write the complete response (head and a
 * body padded to {@link CLOSING_BODY_BYTES}, which forces uWS to send it to
 * the socket now), but pass the last byte to `tryEnd` with a total one
 * larger than the Content-Length already sent, so uWS keeps the response
 * pending and the response object usable; then `res.close()`. The parser
 * sees a closed socket and stops: nothing after the request is dispatched.
 *
 * HEAD responses have no body to pad, so the answer waits for the end of the
 * current read (setImmediate) while the request stays pending: uWS closes a
 * connection by itself when a request arrives while an earlier response is
 * pending (HttpContext: "denying async pipelining"), so again nothing after
 * is dispatched; when nothing followed, the head goes out with
 * `Connection: close` and uWS closes once it is flushed.
 */
export function closeWithProblem(sink: ResponseSink, ctx: RequestContext, err: GatewayError, allow: string | null): void {
  ctx.finished = true;
  if (ctx.method === 'HEAD') {
    setImmediate(answerHeadAndClose, sink, ctx, err, allow);
    return;
  }
  const res = ctx.res;
  closing.ctx = ctx; closing.err = err; closing.allow = allow;
  try {
    res.cork(writeClosingCorked);
  } catch {
    // The response is no longer usable (never expected here): close regardless.
  }
  closing.ctx = null;
  // Accounted before the close, whose onAborted would otherwise report a 499.
  sink.complete(ctx);
  closeQuietly(res);
}

/** The deferred HEAD answer (see {@link closeWithProblem}). */
function answerHeadAndClose(sink: ResponseSink, ctx: RequestContext, err: GatewayError, allow: string | null): void {
  // uWS closed the connection because another request followed: nothing to answer.
  if (ctx.aborted) return;
  headArgs.ctx = ctx; headArgs.err = err; headArgs.allow = allow;
  try {
    ctx.res.cork(writeHeadProblemCorked);
  } catch {
    closeQuietly(ctx.res);
  } finally {
    headArgs.ctx = null;
    sink.complete(ctx);
  }
}

function closeQuietly(res: HttpResponse): void {
  try {
    res.close();
  } catch {
    // Already closed by uWS (its onAborted ran) or no longer ours.
  }
}

// why: res.cork takes a callback; module-level functions reading these
// fields avoid a closure per response. cork runs them synchronously.
const closing = { ctx: null as RequestContext | null, err: null as unknown as GatewayError, allow: null as string | null };
const headArgs = { ctx: null as RequestContext | null, err: null as unknown as GatewayError, allow: null as string | null };

function writeClosingCorked(): void {
  const ctx = closing.ctx!;
  const res = ctx.res;
  writeProblemHead(res, closing.err, ctx.requestId, closing.allow, ctx.responseHeaders);
  res.writeHeader('connection', 'close');
  const body = paddedBody(problemBody(closing.err, ctx.path, ctx.requestId));
  const n = body.length;
  const [ok] = res.tryEnd(body.subarray(0, n - 1), n);
  // A short write (the client is not reading) leaves the response unfinished
  // anyway; the close follows either way.
  if (ok) res.tryEnd(body.subarray(n - 1), n + 1);
}

function writeHeadProblemCorked(): void {
  const ctx = headArgs.ctx!;
  writeProblem(ctx.res, headArgs.err, ctx.path, ctx.requestId, headArgs.allow, true, true, ctx.responseHeaders);
}

/** The problem document followed by spaces up to {@link CLOSING_BODY_BYTES}. */
function paddedBody(json: string): Buffer {
  const len = Buffer.byteLength(json);
  const out = Buffer.allocUnsafe(Math.max(len, CLOSING_BODY_BYTES));
  out.write(json, 0, 'utf8');
  out.fill(0x20, len);
  return out;
}
