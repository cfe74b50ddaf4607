/**
 * The terminal of `websocket` routes: a WebSocket handshake (the request
 * came through uWS's upgrade handler with `Upgrade: websocket`) is checked
 * and handed to an {@link UpstreamHandshake}; any other request on the route
 * (a plain GET, or another method the route allows) is proxied as HTTP by
 * the proxy terminal, exactly as on a route without `websocket`.
 */
import type { Readable } from 'node:stream';
import type { GatewayConfig } from '../config/types.js';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import type { ResponseSink } from '../ingress/response-sink.js';
import type { ResponseWriter } from '../response/response-writer.js';
import { compileForwardPlan, type ForwardPlan } from '../forwarding/forward-plan.js';
import { pickSplit } from '../forwarding/split.js';
import { buildUpstreamPath } from '../forwarding/upstream-path.js';
import type { CompiledRoute } from '../router/compiled-route.js';
import { keySpec, keyValue, type KeySpec } from '../forwarding/key-spec.js';
import type { Terminal } from '../terminals/terminal.js';
import { listenerScheme } from '../upstream/forward-headers.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import { offeredSubprotocols, upstreamHandshakeHeaders, WEBSOCKET_VERSION } from './handshake.js';
import { UpstreamHandshake } from './upstream-handshake.js';
import type { WebSocketProxy } from './websocket-proxy.js';

/** What the terminal needs of the request handler: answers, accounting, the drain flag. */
export interface WebSocketSink extends ResponseSink {
  readonly writer: ResponseWriter;
  readonly draining: boolean;
}

const ERR_DRAINING = new GatewayError(ErrorCodes.SHUTTING_DOWN, 'The gateway is shutting down and accepts no new WebSocket connections');
const ERR_BODY = new GatewayError(ErrorCodes.BAD_REQUEST, 'A WebSocket handshake has no body');
const ERR_VERSION = new GatewayError(ErrorCodes.BAD_REQUEST, 'Unsupported Sec-WebSocket-Version (the gateway speaks 13)');
const ERR_PROTOCOL = new GatewayError(ErrorCodes.BAD_REQUEST, 'Invalid Sec-WebSocket-Protocol (a comma-separated list of tokens)');

/** Per `websocket` route: what forwarding needs, resolved once. */
interface RoutePlan {
  readonly forward: ForwardPlan;
  readonly sticky: KeySpec | null;
  /** The single upstream's group (null for a split). */
  readonly group: UpstreamGroup | null;
}

/** One per worker, shared by every `websocket` route. */
export class WebSocketTerminal implements Terminal {
  readonly needsWholeBody = false;
  private readonly plans: Array<RoutePlan | null>;
  private readonly hashOn = new Map<string, KeySpec | null>();
  private readonly proto: string;

  constructor(
    config: GatewayConfig, routes: readonly CompiledRoute[], private readonly groups: Map<string, UpstreamGroup>,
    private readonly owner: WebSocketProxy, private readonly sink: WebSocketSink, private readonly proxy: Terminal,
  ) {
    this.proto = listenerScheme(config);
    this.plans = config.routes.map(() => null);
    for (const r of routes) {
      // `websocket` is read off the route's config (compiled routes carry the fields the matcher needs).
      if (r.config.websocket === undefined) continue;
      this.plans[r.index] = {
        forward: compileForwardPlan(r.config, r.paramNames),
        sticky: keySpec(r.sticky),
        group: r.upstream === null ? null : groups.get(r.upstream) ?? null,
      };
    }
    for (const [name, u] of Object.entries(config.upstreams)) this.hashOn.set(name, u.balance === 'hash' ? keySpec(u.hashOn) : null);
  }

  start(ctx: RequestContext, body: Buffer | Readable | null): void {
    if (ctx.wsContext === null) {
      this.proxy.start(ctx, body);
      return;
    }
    const route = ctx.route!;
    const plan = this.plans[route.index]!;
    const settings = this.owner.routeSettings(route.index)!;
    if (this.sink.draining) return this.sink.problem(ctx, ERR_DRAINING, null, true);
    if (ctx.contentLength > 0 || ctx.transferEncoding !== '') return this.sink.problem(ctx, ERR_BODY, null, true);
    if (ctx.header('sec-websocket-version') !== WEBSOCKET_VERSION) {
      ctx.addResponseHeader('sec-websocket-version', WEBSOCKET_VERSION);
      return this.sink.problem(ctx, ERR_VERSION, null, false);
    }
    const protocols = offeredSubprotocols(ctx);
    if (protocols === null) return this.sink.problem(ctx, ERR_PROTOCOL, null, false);
    const upstreamName = plan.forward.upstream ?? pickSplit(plan.forward, keyValue(ctx, plan.sticky), Math.random());
    const group = plan.group ?? this.groups.get(upstreamName)!;
    new UpstreamHandshake(this.owner, this.sink, ctx, {
      route: settings,
      group,
      path: buildUpstreamPath(plan.forward, ctx.params, ctx.path, ctx.query),
      headers: upstreamHandshakeHeaders(ctx, route.preserveHost ? ctx.rawHost : '', this.proto),
      protocols,
      hashKey: keyValue(ctx, this.hashOn.get(upstreamName) ?? null) ?? '',
      connectMs: route.timeout.connectMs,
      headersMs: route.timeout.headersMs,
    }).attempt(null);
  }
}
