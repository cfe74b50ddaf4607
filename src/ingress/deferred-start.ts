import type { RequestContext } from './request-context.js';

/** Whoever parked a call on `ctx.pendingCall` and dispatches it later. */
export interface DeferredStarter {
  /** Dispatches the call parked on `ctx`, unless the request ended meanwhile. */
  startDeferred(ctx: RequestContext): void;
}

// why: one module-level queue (starter, ctx pairs flattened, so no per-request
// allocation) and one Immediate per loop turn, as in response/write-batch.ts.
let queue: Array<DeferredStarter | RequestContext> = [];
let spare: Array<DeferredStarter | RequestContext> = [];
let scheduled = false;

/**
 * Queues the dispatch of the call parked on `ctx.pendingCall` for the check
 * phase of this event-loop turn, after uWS has parsed the rest of the read
 * the request came in.
 *
 * why: uWS parses every request of a read before returning to the loop, and
 * when it meets a second request while the first one's response is pending
 * it closes the connection (HttpContext.h: "denying async pipelining"); a
 * malformed chunk or trailer after the handler ran closes it the same way.
 * The first request then gets onAborted, but a dispatch made inside the read
 * had already been written to an idle keep-alive upstream connection
 * (measured: the upstream executed `GET`s and `POST`s whose client got no
 * answer). Dispatching after the read, only for requests that are still
 * alive, makes such a failure side-effect free, so the client may retry.
 * Cost: the upstream write moves from the poll phase to the check phase of
 * the same loop turn; two array pushes per request.
 */
export function deferStart(starter: DeferredStarter, ctx: RequestContext): void {
  queue.push(starter, ctx);
  if (!scheduled) {
    scheduled = true;
    setImmediate(startQueued);
  }
}

/** Dispatches the queued calls; calls queued meanwhile run in the next turn. */
function startQueued(): void {
  scheduled = false;
  const batch = queue;
  queue = spare;
  for (let i = 0; i < batch.length; i += 2) {
    try {
      (batch[i] as DeferredStarter).startDeferred(batch[i + 1] as RequestContext);
    } catch {
      // startDeferred must not throw; a bug in one must not drop the rest.
    }
  }
  batch.length = 0;
  spare = batch;
}
