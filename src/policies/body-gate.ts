/**
 * The body gate: which responseBody policies take one response's body, and
 * up to how many bytes. A policy with `responseBodyLimit` may decline a
 * response from its head (not its content type, a Content-Length over its
 * limit), or take bodies up to a limit and be left out when a streamed body
 * grows past it; when every policy of the route declined, the response
 * streams exactly as on a route without responseBody policies (what was
 * buffered so far first). A policy without the method takes every body up to
 * the route's `maxBodySize` (502 `upstream_response_too_large` above), as
 * the pipeline always did.
 *
 * Used by the proxy exchange (streamed upstream bodies) and by
 * {@link runWholeBody} for bodies already in memory (local answers that go
 * through the body phase, terminals that build a BufferedResponse).
 */
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import { runResponseBody } from './run-phases.js';
import type { BufferedResponse, PhaseResult, PolicyInstance, ResponseHead } from './types.js';

/** The verdict of a body over a failing limit (a policy's negative limit, or the route's maxBodySize). */
export const ERR_RESPONSE_TOO_LARGE = new GatewayError(ErrorCodes.UPSTREAM_RESPONSE_TOO_LARGE);

/** What {@link BodyGate.grow} decided. */
export const enum Growth {
  /** Keep buffering. */
  Buffer = 0,
  /** Every policy left: stream what was buffered and the rest, untransformed. */
  Pass = 1,
  /** A policy that still takes the body cannot take this many bytes: 502. */
  Fail = 2,
}

/** The gate of one response. */
export class BodyGate {
  /** Buffered bytes above which {@link grow} must be asked (Infinity: never). */
  bound = Infinity;

  /**
   * @param takers the policies whose responseBody runs, in chain order.
   * @param limits per taker: n > 0 leaves it out above n bytes; -n fails the response above n bytes.
   */
  private constructor(public takers: PolicyInstance[], private readonly limits: number[]) {
    this.computeBound();
  }

  /**
   * The gate for a response whose head is `head` (after the responseHead
   * phase), or null when every policy declined. `declared` is the body's
   * length when known (-1 otherwise); `routeMax` the route's maxBodySize
   * (0: unlimited).
   */
  static open(chain: readonly PolicyInstance[], ctx: RequestContext, head: ResponseHead, declared: number, routeMax: number): BodyGate | null {
    const max = routeMax > 0 ? routeMax : Infinity;
    let takers: PolicyInstance[] | null = null;
    let limits: number[] | null = null;
    for (let i = 0; i < chain.length; i++) {
      const p = chain[i];
      let limit = -max;
      if (p.responseBodyLimit !== undefined) {
        const own = p.responseBodyLimit(ctx, head);
        if (own === 0) continue;
        // why: a policy that passes oversize bodies passes above the route's
        // maxBodySize too (nothing buffers more than that).
        if (own > 0) {
          limit = own < max ? own : max;
          if (declared > limit) { p.responseBodyPassed?.(ctx, declared); continue; }
        } else limit = Math.max(own, -max);
      }
      (takers ??= []).push(p);
      (limits ??= []).push(limit);
    }
    return takers === null ? null : new BodyGate(takers, limits!);
  }

  /** The body grew to `bytes` (over {@link bound}): leave out the policies it outgrew, or fail. */
  grow(ctx: RequestContext, bytes: number): Growth {
    const takers = this.takers;
    const limits = this.limits;
    for (let i = 0; i < limits.length; i++) if (limits[i] < 0 && bytes > -limits[i]) return Growth.Fail;
    for (let i = limits.length - 1; i >= 0; i--) {
      if (limits[i] > 0 && bytes > limits[i]) {
        const p = takers[i];
        takers.splice(i, 1);
        limits.splice(i, 1);
        p.responseBodyPassed?.(ctx, bytes);
      }
    }
    if (takers.length === 0) return Growth.Pass;
    this.computeBound();
    return Growth.Buffer;
  }

  private computeBound(): void {
    let b = Infinity;
    for (let i = 0; i < this.limits.length; i++) {
      const l = this.limits[i] < 0 ? -this.limits[i] : this.limits[i];
      if (l < b) b = l;
    }
    this.bound = b;
  }
}

/**
 * Runs the body phase of the route's `chain` on a whole response already in
 * memory: the gate first (a policy that declines, or whose limit the body
 * exceeds, is left out), then runResponseBody on the policies left.
 */
export function runWholeBody(chain: readonly PolicyInstance[], ctx: RequestContext, res: BufferedResponse, routeMax: number): PhaseResult {
  const gate = BodyGate.open(chain, ctx, res, res.body.length, routeMax);
  if (gate === null) return undefined;
  if (res.body.length > gate.bound) {
    const g = gate.grow(ctx, res.body.length);
    if (g === Growth.Fail) return ERR_RESPONSE_TOO_LARGE;
    if (g === Growth.Pass) return undefined;
  }
  return runResponseBody(gate.takers, ctx, res);
}
