/**
 * A worker's WebSocket proxying: the uWS registration (one per listener and
 * SNI host), the per-route settings, the open tunnels (drain waits for them
 * and ends them with 1001 after the grace period) and their idle checks.
 * Built only when some route has `websocket`: a config without one registers
 * nothing with uWS, and its requests pay nothing for this.
 */
import type { HttpRequest, HttpResponse, TemplatedApp, us_socket_context_t, WebSocketBehavior } from 'uWebSockets.js';
import type { Registry } from 'prom-client';
import type { GatewayConfig } from '../config/types.js';
import type { UpstreamObserver } from '../upstream/dispatcher.js';
import { DeadlineWheel } from '../upstream/deadline-wheel.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import type { CompiledRoute } from '../router/compiled-route.js';
import type { Terminal } from '../terminals/terminal.js';
import { CloseCode } from './close-codes.js';
import { CLIENT_HIGH_WATER, Tunnel, type ClientData, type TunnelOwner, type TunnelRoute } from './tunnel.js';
import { websocketMetrics } from './websocket-metrics.js';
import { WebSocketTerminal, type WebSocketSink } from './websocket-terminal.js';

/** uWS's `upgrade` handler signature (the request handler's `handleUpgrade`). */
export type UpgradeHandler = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t) => void;

/**
 * What uWS may hold for one client beyond the largest message: the relay
 * pauses the upstream at {@link CLIENT_HIGH_WATER}, so only abuse (pings the
 * client never reads the pongs of) gets there; uWS then drops the frame and
 * closes the connection (`closeOnBackpressureLimit`).
 */
const BACKPRESSURE_SLACK = 4 * CLIENT_HIGH_WATER;

/** The worker's WebSocket proxying; see the module comment. */
export class WebSocketProxy implements TunnelOwner {
  /** Idle checks of every tunnel (100 ms slots, 409.6 s span; longer timeouts wrap around). */
  readonly idleWheel = new DeadlineWheel(100, 4096);
  /** The largest maxPayload of any route: uWS's own limit for the listener. */
  readonly maxPayloadBytes: number;
  private readonly routes: Array<TunnelRoute | null>;
  private readonly tunnels = new Set<Tunnel>();
  private onIdle: (() => void) | null = null;

  constructor(
    private readonly config: GatewayConfig, private readonly compiled: readonly CompiledRoute[],
    private readonly groups: Map<string, UpstreamGroup>, registry: Registry, private readonly observer: UpstreamObserver | null,
    private readonly onRelayError: (err: unknown) => void = ignoreError,
  ) {
    const metrics = websocketMetrics(registry);
    this.routes = config.routes.map((r) => (r.websocket === undefined ? null : {
      maxPayloadBytes: r.websocket.maxPayloadBytes, idleTimeoutMs: r.websocket.idleTimeoutMs, series: metrics.route(r.name),
    }));
    this.maxPayloadBytes = Math.max(0, ...this.routes.map((r) => (r === null ? 0 : r.maxPayloadBytes)));
  }

  /** The settings of route `index` (null when it has no `websocket`). */
  routeSettings(index: number): TunnelRoute | null {
    return this.routes[index] ?? null;
  }

  /** Open tunnels. */
  get size(): number {
    return this.tunnels.size;
  }

  /** The terminal of `websocket` routes (plain requests go to `proxy`). */
  terminal(sink: WebSocketSink, proxy: Terminal): Terminal {
    return new WebSocketTerminal(this.config, this.compiled, this.groups, this, sink, proxy);
  }

  /**
   * The uWS registration: uWS's own limits set so that the relay decides
   * (no uWS idle timeout, automatic pings or compression; its payload limit
   * the largest route's), handlers passing each event to the socket's tunnel.
   */
  behavior(upgrade: UpgradeHandler, compressionDisabled: number): WebSocketBehavior<ClientData> {
    return {
      compression: compressionDisabled,
      maxPayloadLength: this.maxPayloadBytes,
      idleTimeout: 0,
      sendPingsAutomatically: false,
      maxBackpressure: this.maxPayloadBytes + BACKPRESSURE_SLACK,
      closeOnBackpressureLimit: true,
      upgrade,
      // why: an exception escaping a uWS handler would be uncaught and end the
      // worker; the try costs nothing measurable on V8's optimised path.
      open: (ws) => { const t = ws.getUserData().tunnel; try { t.opened(ws); } catch (err) { t.failed(err); } },
      message: (ws, message, isBinary) => { const t = ws.getUserData().tunnel; try { t.fromClient(message, isBinary); } catch (err) { t.failed(err); } },
      drain: (ws) => { const t = ws.getUserData().tunnel; try { t.clientDrained(); } catch (err) { t.failed(err); } },
      ping: (ws, message) => { const t = ws.getUserData().tunnel; try { t.clientPing(message); } catch (err) { t.failed(err); } },
      pong: (ws, message) => { const t = ws.getUserData().tunnel; try { t.clientPong(message); } catch (err) { t.failed(err); } },
      close: (ws, code, message) => { const t = ws.getUserData().tunnel; try { t.clientClosed(code, message); } catch (err) { t.failed(err); } },
    };
  }

  /** Registers the WebSocket handlers on `app` (the listener, or one of its SNI hosts). */
  register(app: TemplatedApp, upgrade: UpgradeHandler, compressionDisabled: number): void {
    app.ws<ClientData>('/*', this.behavior(upgrade, compressionDisabled));
  }

  /** A tunnel starts (the upstream accepted). */
  adopt(tunnel: Tunnel): void {
    this.tunnels.add(tunnel);
  }

  /** TunnelOwner: both legs of `tunnel` are closed. */
  finished(tunnel: Tunnel): void {
    this.tunnels.delete(tunnel);
    if (this.tunnels.size === 0 && this.onIdle !== null) {
      const resolve = this.onIdle;
      this.onIdle = null;
      resolve();
    }
  }

  /** TunnelOwner: a relay step threw (a gateway bug): reported, the tunnel ends with 1011. */
  relayFailed(err: unknown): void {
    this.onRelayError(err);
  }

  /** Counts an upstream failure in the worker's metrics. */
  upstreamError(upstream: string, kind: string): void {
    if (this.observer !== null) this.observer.upstreamError(upstream, kind);
  }

  /** Resolves when no tunnel is open. */
  whenIdle(): Promise<void> {
    if (this.tunnels.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const prev = this.onIdle;
      this.onIdle = prev === null ? resolve : () => { prev(); resolve(); };
    });
  }

  /**
   * Drain: ends every tunnel with 1001 Going Away (both legs), waits up to
   * `lingerMs` for the closing handshakes, then drops what is left.
   */
  async closeAll(reason: string, lingerMs: number): Promise<void> {
    for (const t of [...this.tunnels]) t.endBoth('shutdown', CloseCode.GOING_AWAY, reason, CloseCode.GOING_AWAY, reason);
    if (this.tunnels.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.whenIdle(), new Promise<void>((resolve) => { timer = setTimeout(resolve, lingerMs); })]);
      clearTimeout(timer);
    }
    for (const t of [...this.tunnels]) t.terminate();
  }
}

/**
 * The worker's WebSocket proxying, or null when no route has `websocket`.
 * `onRelayError` gets what a relay step threw (a gateway bug; for the log).
 */
export function createWebSocketProxy(
  config: GatewayConfig, compiled: readonly CompiledRoute[], groups: Map<string, UpstreamGroup>, registry: Registry,
  observer: UpstreamObserver | null, onRelayError?: (err: unknown) => void,
): WebSocketProxy | null {
  if (!config.routes.some((r) => r.websocket !== undefined)) return null;
  return new WebSocketProxy(config, compiled, groups, registry, observer, onRelayError);
}

function ignoreError(): void {}
