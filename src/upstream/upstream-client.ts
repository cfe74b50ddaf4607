/**
 * Requests a policy makes of its own to the worker's http upstreams, outside
 * any client exchange: a response cache's background revalidation, a
 * response aggregation. They go through the same upstream groups as proxied
 * requests: a target picked by the upstream's balancer (hash balancing by a
 * key the caller gives), the target's keep-alive undici pool, its in-flight
 * count, and passive health (a refused connection, a TLS failure or a
 * timeout counts against the target; a 5xx as `passiveHealth.count5xx`
 * says). Unlike the proxy path the whole response body is collected (up to
 * a limit) and nothing streams; the caller's timeout covers the whole call.
 * A failed call rejects with the same GatewayError the proxy path would have
 * answered with (502 connect, 503 no target, 504 timeout, ...).
 *
 * `forwardRequest(ctx)` says what the proxy terminal would send upstream for
 * a client request (upstream pick, rewritten path, forwarded headers), so a
 * policy can repeat that request later without the client.
 */
import type { GatewayConfig } from '../config/types.js';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import { compileForwardPlan, type ForwardPlan } from '../forwarding/forward-plan.js';
import { pickSplit } from '../forwarding/split.js';
import { keySpec, keyValue, type KeySpec } from '../forwarding/key-spec.js';
import { buildUpstreamPath } from '../forwarding/upstream-path.js';
import type { RequestContext } from '../ingress/request-context.js';
import { buildUpstreamHeaders, listenerScheme } from './forward-headers.js';
import type { UpstreamGroup } from './upstream-group.js';
import { FetchCall } from './fetch-call.js';
import type { UpstreamObserver } from './dispatcher.js';
export type { FetchCall } from './fetch-call.js';
import type { RetryPolicy } from './retry/retry-policy.js';

/** One request of a policy's own. */
export interface UpstreamFetchRequest {
  readonly method: string;
  /** Path and query as sent upstream (starts with `/`). */
  readonly path: string;
  /** Flat `[name, value, ...]` list, lower-case names; the target's own Host is sent unless it holds a `host`. */
  readonly headers?: readonly string[];
  readonly body?: Buffer | string | null;
  /** Key for `hash` balancing ('' = none; other balancers ignore it). */
  readonly hashKey?: string;
}

/** Limits of one call. */
export interface UpstreamFetchOptions {
  /**
   * The whole call (queueing for a connection, headers and body), ms; 0 =
   * none of its own (only for a caller that bounds the call itself and
   * aborts it: {@link UpstreamClient.start}).
   */
  readonly timeoutMs: number;
  /** Largest response body collected (default 8 MiB); a larger one rejects with `upstream_response_too_large`. */
  readonly maxBodyBytes?: number;
  /** Abandons the call (the call rejects with the signal's reason, mapped; a try in flight is aborted). */
  readonly signal?: AbortSignal;
  /** Retries of failed tries (null or absent: none); the upstream's retry budget applies. */
  readonly retry?: RetryPolicy | null;
}

/** A complete upstream response. */
export interface UpstreamReply {
  readonly status: number;
  /** Flat `[name, value, ...]` list, lower-case names, in arrival order, hop-by-hop headers removed. */
  readonly headers: string[];
  readonly body: Buffer;
}

/** What the proxy terminal sends upstream for a client request. */
export interface ForwardedRequest {
  readonly upstream: string;
  readonly path: string;
  /** Forwarded headers (X-Forwarded-*, X-Request-Id, identity, Host when preserved); no framing headers. */
  readonly headers: string[];
  /** The request's `hash` balancing key ('' when the upstream does not hash). */
  readonly hashKey: string;
}

/** A repeated request carries no body: the client's framing is not sent. */
const FRAMING: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding']);

function unknownUpstream(name: string): GatewayError {
  return new GatewayError(ErrorCodes.UPSTREAM_UNAVAILABLE, 'Unknown http upstream "' + name + '"');
}

/** The worker's upstream client (one per worker, shared by every policy). */
export class UpstreamClient {
  private readonly plans: ReadonlyArray<ForwardPlan | null>;
  private readonly sticky: ReadonlyArray<KeySpec | null>;
  private readonly hashOn = new Map<string, KeySpec | null>();
  private readonly proto: string;

  /**
   * @param groups the worker's http upstream groups, by upstream name.
   * @param paramNames per route index, the capture names the router compiled (for rewrites).
   * @param observer counts the calls' upstream errors and retries as the proxy path's (metrics); null: none.
   */
  constructor(config: GatewayConfig, private readonly groups: ReadonlyMap<string, UpstreamGroup>, paramNames: ReadonlyArray<readonly string[]>,
    private readonly observer: UpstreamObserver | null = null) {
    this.plans = config.routes.map((r) => (r.transcode !== undefined || r.aggregate !== undefined ? null : compileForwardPlan(r, paramNames[r.index])));
    this.sticky = config.routes.map((r) => keySpec(r.sticky));
    this.proto = listenerScheme(config);
    for (const [name, u] of Object.entries(config.upstreams)) this.hashOn.set(name, u.balance === 'hash' ? keySpec(u.hashOn) : null);
  }

  /**
   * What the proxy terminal would send upstream for `ctx` (a proxied route's
   * request, after its access phase): null on transcoded routes. A split
   * route picks its side as the terminal does (sticky value, else random).
   * Call it while the request is in flight (it reads the context).
   */
  forwardRequest(ctx: RequestContext): ForwardedRequest | null {
    const route = ctx.route;
    const plan = route === null ? null : this.plans[route.index];
    if (route === null || plan === null || plan === undefined) return null;
    const upstream = plan.upstream ?? pickSplit(plan, keyValue(ctx, this.sticky[route.index]), Math.random());
    const all = buildUpstreamHeaders(ctx, route.preserveHost ? ctx.rawHost : '', this.proto, -1);
    // A repeated request carries no body: drop the client's framing.
    const headers: string[] = [];
    for (let i = 0; i < all.length; i += 2) {
      if (all[i] !== 'content-length' && all[i] !== 'transfer-encoding') headers.push(all[i], all[i + 1]);
    }
    return {
      upstream, headers, path: buildUpstreamPath(plan, ctx.params, ctx.path, ctx.query),
      hashKey: keyValue(ctx, this.hashOn.get(upstream) ?? null) ?? '',
    };
  }

  /**
   * The headers a proxied request of `ctx` would carry (X-Forwarded-*,
   * X-Request-Id, the consumer identity headers, the client's own headers
   * minus hop-by-hop ones), without the body framing and with the target's
   * own Host, minus the names in `drop` (default the body framing). Call it
   * while the request is in flight.
   */
  forwardedHeaders(ctx: RequestContext, drop: ReadonlySet<string> = FRAMING): string[] {
    const all = buildUpstreamHeaders(ctx, '', this.proto, -1);
    const headers: string[] = [];
    for (let i = 0; i < all.length; i += 2) if (!drop.has(all[i])) headers.push(all[i], all[i + 1]);
    return headers;
  }

  /**
   * Sends one request to a target of `upstream` and collects the whole
   * response, under the upstream's concurrency limit and circuit breaker
   * (as proxied requests are) and with the retries of `opts.retry`. Rejects
   * with a GatewayError: `upstream_unavailable` (unknown upstream, or no
   * healthy target), `circuit_open`, `upstream_overloaded`, the mapped
   * upstream failure (`upstream_connect_failed`, `upstream_tls`,
   * `upstream_timeout`, ...), or `upstream_response_too_large`; with the
   * signal's reason when `opts.signal` aborted it.
   */
  fetch(upstream: string, req: UpstreamFetchRequest, opts: UpstreamFetchOptions): Promise<UpstreamReply> {
    const group = this.groups.get(upstream);
    if (group === undefined) return Promise.reject(unknownUpstream(upstream));
    return new FetchCall(group, req, opts, this.observer).run();
  }

  /**
   * {@link fetch} as a handle: `call.done` settles as `fetch` would, and
   * `call.abort(reason)` abandons it (no AbortSignal to create or listen to:
   * a caller running several calls, such as an aggregate, aborts its handles
   * directly).
   */
  start(upstream: string, req: UpstreamFetchRequest, opts: UpstreamFetchOptions): FetchCall {
    const group = this.groups.get(upstream);
    const call = new FetchCall(group ?? null, req, opts, this.observer);
    call.done = group === undefined ? Promise.reject(unknownUpstream(upstream)) : call.run();
    return call;
  }
}
