import type { GatewayError } from '../errors/gateway-error.js';
import type { Verdict } from '../policies/types.js';
import type { RequestContext } from './request-context.js';

/** How later stages hand a request back to the ingress to finish it. */
export interface ResponseSink {
  /** Answers with a problem+json error (corks itself; no-op if aborted or already answered). */
  problem(ctx: RequestContext, err: GatewayError, allow: string | null, close: boolean): void;
  /** Answers with a policy's verdict (a problem or a local response). */
  answer(ctx: RequestContext, verdict: Exclude<Verdict, undefined>, close: boolean): void;
  /** Reports a policy that threw where the answer can no longer change. */
  policyError(name: string, err: unknown): void;
  /** The response is complete or the client went away: account and release. */
  complete(ctx: RequestContext): void;
  /**
   * Whether the connection must close after this response: the worker is
   * draining, or the client's body was not read to the end (the connection
   * cannot carry another request).
   */
  closeAfter(ctx: RequestContext): boolean;
}
