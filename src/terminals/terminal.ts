/**
 * What ends a route's chain: the upstream proxy, the REST→gRPC transcoder,
 * the WebSocket proxy, response aggregation (src/aggregate/). Picked per
 * route at compile time; it runs after the last access (and requestBody)
 * verdict, so everything it sends upstream reflects what policies did to
 * the context.
 */
import type { Readable } from 'node:stream';
import type { RequestContext } from '../ingress/request-context.js';

/** A route's terminal. */
export interface Terminal {
  /**
   * Starts the exchange for `ctx` (its route is `ctx.route`). `body` is the
   * whole request body when the ingress buffered it, the streamed body, or
   * null when the request has none. Answers through the response writer.
   */
  start(ctx: RequestContext, body: Buffer | Readable | null): void;
  /** Whether the terminal needs the whole request body buffered before start (transcoding does). */
  readonly needsWholeBody: boolean;
}
