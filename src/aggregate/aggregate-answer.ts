/**
 * The merged answer of an aggregate on a route with response policies:
 * the responseHead phase may edit or replace it, a body tap a policy
 * attached sees it, the responseBody phase sees (and may change) the JSON,
 * as on a proxied route.
 */
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import { runResponseBody, runResponseHead } from '../policies/run-phases.js';
import type { BufferedResponse } from '../policies/types.js';
import { markFinished, ownHead } from '../response/response-writer.js';
import type { BodyTap } from '../upstream/body-tap.js';
import type { AggregateSink } from './aggregate-run.js';

/** Answers `ctx` with the merged JSON `text` and the aggregate's own headers `own`, through the route's response policies. */
export async function answerThroughPolicies(ctx: RequestContext, sink: AggregateSink, text: string, own: string[]): Promise<void> {
  const chain = ctx.chain!;
  let tap: BodyTap | null = null;
  try {
    const head = ownHead(ctx, 200, own);
    if (chain.responseHead !== null) {
      const v = runResponseHead(chain.responseHead, ctx, head, true, sink.policyError);
      // A body tap a policy attached sees the merged body, or is told it will not.
      tap = ctx.bodyTap;
      if (v !== undefined) { endTap(tap, false); tap = null; return sink.answer(ctx, v, false); }
    }
    const res: BufferedResponse = { status: head.status, headers: head.headers, body: Buffer.from(text) };
    if (tap !== null) {
      if (tap.chunk(res.body)) endTap(tap, true);
      tap = null;
    }
    if (chain.responseBody !== null) {
      const p = runResponseBody(chain.responseBody, ctx, res);
      const v = p instanceof Promise ? await p : p;
      if (ctx.aborted || ctx.finished) return;
      if (v !== undefined) return sink.answer(ctx, v, false);
    }
    const close = sink.closeAfter(ctx);
    ctx.res.cork(() => sink.writer.endWith(ctx, res, res.body, close));
    ctx.status = res.status;
    markFinished(ctx);
    sink.complete(ctx);
  } catch (err) {
    endTap(tap, false);
    if (!ctx.aborted && !ctx.finished) sink.problem(ctx, new GatewayError(ErrorCodes.INTERNAL, undefined, { cause: err }), null, false);
  }
}

/** Ends a body tap: `end` after the whole body, else `abort`. */
function endTap(tap: BodyTap | null, complete: boolean): void {
  if (tap === null) return;
  if (complete) tap.end();
  else tap.abort();
}
