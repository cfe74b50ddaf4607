import type { RequestContext } from '../ingress/request-context.js';
import type { Verdict } from '../policies/types.js';

/**
 * What the exchange reports back to its owner (the request handler): kept as
 * an interface so the exchange knows nothing of routing or health.
 */
export interface ExchangeOwner {
  /** Upstream answered with response headers (for passive health). */
  upstreamResponded(ctx: RequestContext, status: number): void;
  /** The request, body included, was written to the upstream: the headers limit starts. */
  requestSent(ctx: RequestContext): void;
  /** The upstream failed before any response byte reached the client. */
  upstreamFailed(ctx: RequestContext, err: unknown, responseStarted: boolean): void;
  /** The client response is complete (or the client went away). */
  finished(ctx: RequestContext): void;
  /** Whether the client connection must close after this response. */
  closeAfter(ctx: RequestContext): boolean;
  /** Responses with a known length up to this size are sent in one write. */
  readonly bufferBodyBytes: number;
  /** Most bytes of a response buffered whole for responseBody policies (route maxBodySize, else this). */
  readonly maxBodyBytes: number;
  /** A response policy replaced the upstream's answer: write this instead. */
  replaced(ctx: RequestContext, verdict: Exclude<Verdict, undefined>): void;
  /** A response policy threw where no answer can change any more. */
  policyError(name: string, err: unknown): void;
}
