/**
 * One named limit as a policy instance: builds the request's key, asks the
 * limiter, adds the RateLimit header fields, and answers 429 (or 503 when the
 * store is down and the limit says `deny`).
 */
import type { RateLimitConfig } from '../../config/types.js';
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../ingress/request-context.js';
import type { PhaseResult, PolicyInstance } from '../types.js';
import { ceilSeconds, policyValue, rateLimitPrefix, RATELIMIT, RATELIMIT_POLICY, RETRY_AFTER } from './headers.js';
import type { LeasedLimiter, Verdict } from './leased-limiter.js';
import type { RateLimitCounters } from './metrics.js';
import type { RequestKey } from './request-key.js';
import type { LimitSpec } from './store.js';

const ERR_STORE_DOWN = new GatewayError(ErrorCodes.RATE_LIMIT_UNAVAILABLE,
  'The rate-limit store is unreachable and this limit is configured with onRedisFailure: deny');

/** A configured limit on the request path. */
export class RateLimitPolicy implements PolicyInstance {
  readonly name: string;
  private readonly policyHeader: string;
  private readonly prefix: string;
  private readonly windowText: string;

  constructor(
    private readonly config: RateLimitConfig,
    spec: LimitSpec,
    private readonly key: RequestKey,
    private readonly limiter: LeasedLimiter,
    private readonly counters: RateLimitCounters,
    /** Route names by route index (for key part `route`). */
    private readonly routeNames: readonly string[],
  ) {
    this.name = 'rate-limit:' + config.name;
    this.policyHeader = policyValue(spec);
    this.prefix = rateLimitPrefix(spec);
    this.windowText = config.algorithm === 'quota' ? `per ${config.period}` : `per ${Math.round(config.windowMs / 1000)} s`;
  }

  access(ctx: RequestContext): PhaseResult {
    const v = this.limiter.acquire(this.key.build(ctx, this.routeNames[ctx.routeIndex]));
    if (v instanceof Promise) return v.then((d) => this.apply(ctx, d));
    return this.apply(ctx, v);
  }

  /** Records the decision, adds the header fields, and returns the 429/503 when denied. */
  private apply(ctx: RequestContext, v: Verdict): GatewayError | undefined {
    this.counters.count(v.allowed, v.mode);
    if (v.mode === 'allow') return undefined;
    if (v.mode === 'deny') {
      ctx.addResponseHeader(RETRY_AFTER, '1');
      return ERR_STORE_DOWN;
    }
    ctx.addResponseHeader(RATELIMIT_POLICY, this.policyHeader);
    ctx.addResponseHeader(RATELIMIT, this.prefix + v.remaining + ';t=' + ceilSeconds(v.resetMs));
    if (v.allowed) return undefined;
    const retry = Math.max(1, ceilSeconds(v.retryAfterMs));
    ctx.addResponseHeader(RETRY_AFTER, String(retry));
    return new GatewayError(ErrorCodes.RATE_LIMITED,
      `Rate limit "${this.config.name}" exceeded: ${this.config.limit} requests ${this.windowText}; retry after ${retry} s`);
  }
}
