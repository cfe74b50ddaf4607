/**
 * A streaming tap on an upstream response body: what a responseHead policy
 * attaches (`ctx.bodyTap = tap`) to see the body as it streams to the client,
 * without making the route buffer it (the responseBody phase does that). The
 * response cache collects a cacheable body this way.
 *
 * The proxy exchange reads `ctx.bodyTap` once, right after the responseHead
 * phase of an upstream response, and then calls the tap for each body chunk
 * and once at the end (`end` or `abort`). A route whose policies attach no
 * tap pays one null check per chunk. Taps see the body exactly as the
 * upstream sent it (after de-chunking; no content decoding), also on the
 * exchange's buffered fast path (small bodies written in one write).
 */
export interface BodyTap {
  /**
   * One body chunk. The Buffer is the exchange's own (it may also be queued
   * for the client): keep the reference or copy it, never modify it. Return
   * false to detach (e.g. the body outgrew what the tap collects); no further
   * call follows then, not even `end` or `abort`.
   */
  chunk(chunk: Buffer): boolean;
  /** The upstream body is complete (called once). */
  end(): void;
  /**
   * The exchange ended before the body was complete: the upstream failed,
   * the deadline passed, the client went away, or a policy replaced the
   * response (called once, instead of `end`).
   */
  abort(): void;
}
