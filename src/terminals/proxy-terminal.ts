/**
 * The upstream proxy terminal: the forwarding decisions (split pick, path
 * rewrite, forwarded headers, hash key) made from the context as the policies
 * left it, then dispatch through the upstream group's undici pools.
 */
import type { Readable } from 'node:stream';
import type { GatewayConfig } from '../config/types.js';
import type { RequestContext } from '../ingress/request-context.js';
import { compileForwardPlan, type ForwardPlan } from '../forwarding/forward-plan.js';
import { pickSplit } from '../forwarding/split.js';
import { buildUpstreamPath } from '../forwarding/upstream-path.js';
import { buildUpstreamHeaders, listenerScheme } from '../upstream/forward-headers.js';
import type { UpstreamDispatcher } from '../upstream/dispatcher.js';
import { UpstreamCall } from '../upstream/upstream-call.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import { compileRetryPolicy, type RetryPolicy } from '../upstream/retry/retry-policy.js';
import { RetryState } from '../upstream/retry/retry-state.js';
import { keySpec, keyValue, type KeySpec } from '../forwarding/key-spec.js';
import type { Terminal } from './terminal.js';

/** Proxies to the route's upstream (or the split's pick). One per worker, shared by routes. */
export class ProxyTerminal implements Terminal {
  readonly needsWholeBody = false;
  /** Per route index: its single upstream's group (null for splits), resolved once. */
  private readonly routeGroups: Array<UpstreamGroup | null>;
  /** Per route index: its parsed `sticky` spec (null when none). */
  private readonly routeSticky: Array<KeySpec | null>;
  /** Per upstream: the `hash` balancer's key spec, or null for other balancers. */
  private readonly hashOn = new Map<string, KeySpec | null>();
  /** Per route index: its forwarding plan (rewrite, strip prefix, split table). */
  private readonly plans: ForwardPlan[];
  /** X-Forwarded-Proto: the scheme of this worker's listener, fixed per worker. */
  private readonly proto: string;
  /** Per route index: its compiled `retry` policy (null: none). */
  private readonly retries: Array<RetryPolicy | null>;

  /**
   * @param paramNames per route index, the capture names the router compiled (rewrite templates refer to them).
   */
  constructor(
    config: GatewayConfig, private readonly groups: Map<string, UpstreamGroup>, private readonly dispatcher: UpstreamDispatcher,
    paramNames: ReadonlyArray<readonly string[]>,
  ) {
    this.plans = config.routes.map((r) => compileForwardPlan(r, paramNames[r.index]));
    this.proto = listenerScheme(config);
    this.routeGroups = config.routes.map((r) => (r.upstream === null ? null : groups.get(r.upstream) ?? null));
    this.routeSticky = config.routes.map((r) => keySpec(r.sticky));
    this.retries = config.routes.map((r) => (r.retry === undefined ? null : compileRetryPolicy(r.retry)));
    for (const [name, u] of Object.entries(config.upstreams)) this.hashOn.set(name, u.balance === 'hash' ? keySpec(u.hashOn) : null);
  }

  start(ctx: RequestContext, body: Buffer | Readable | null): void {
    const route = ctx.route!;
    const plan = this.plans[route.index];
    const upstreamName = plan.upstream ?? pickSplit(plan, keyValue(ctx, this.routeSticky[route.index]), Math.random());
    const group = this.routeGroups[route.index] ?? this.groups.get(upstreamName)!;
    const path = buildUpstreamPath(plan, ctx.params, ctx.path, ctx.query);
    const headers = buildUpstreamHeaders(ctx, route.preserveHost ? ctx.rawHost : '', this.proto, body instanceof Buffer ? body.length : -1);
    const call = new UpstreamCall(route, group, path, headers);
    call.body = body;
    const retry = this.retries[route.index];
    if (retry !== null) call.retry = new RetryState(retry, call, this.dispatcher);
    this.dispatcher.start(ctx, call, keyValue(ctx, this.hashOn.get(upstreamName) ?? null) ?? '');
  }
}
