/**
 * One proxied WebSocket: the client leg (a uWS WebSocket) and the upstream
 * leg (a ws library client), relaying messages, pings and closes between
 * them with backpressure, per-route limits and an idle timeout.
 *
 * Backpressure:
 * - upstream → client: when uWS holds {@link CLIENT_HIGH_WATER} or more for
 *   the client, the upstream socket is paused (ws `pause()`, which stops
 *   reading it, so TCP flow control reaches the upstream) and resumed from
 *   uWS's `drain` below {@link CLIENT_LOW_WATER}.
 * - client → upstream: uWS 20.57 cannot pause a WebSocket's reads, so what a
 *   client sends faster than the upstream reads waits in the gateway; past
 *   the route's maxPayload + {@link UPSTREAM_BACKLOG_SLACK} the client is
 *   closed with 1013 (Try Again Later) and the upstream with 1001.
 */
import type { WebSocket as UwsWebSocket } from 'uWebSockets.js';
import type { WebSocket as WsClient } from 'ws';
import type { DeadlineEntry, DeadlineWheel } from '../upstream/deadline-wheel.js';
import type { Target } from '../upstream/target.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import { ABNORMAL, closeForClient, closeForUpstream, CloseCode, upstreamFailure, type UpstreamFailure } from './close-codes.js';
import type { CloseCause, WebSocketSeries } from './websocket-metrics.js';

/** Bytes uWS may hold for a client before the upstream is paused. */
export const CLIENT_HIGH_WATER = 1024 * 1024;
/** The paused upstream is resumed when uWS holds less than this for the client. */
export const CLIENT_LOW_WATER = 256 * 1024;
/** Bytes, beyond the route's maxPayload, that may wait for a slow upstream before the client is closed with 1013. */
export const UPSTREAM_BACKLOG_SLACK = 1024 * 1024;
/** Idle checks per idleTimeout (a quiet connection closes between 1 and 1.25 idleTimeouts after its last frame). */
const IDLE_CHECKS = 4;

/** A route's WebSocket settings, resolved once per worker. */
export interface TunnelRoute {
  readonly maxPayloadBytes: number;
  /** 0 = no idle timeout. */
  readonly idleTimeoutMs: number;
  readonly series: WebSocketSeries;
}

/** What uWS keeps for a client socket (the userData object). */
export interface ClientData {
  readonly tunnel: Tunnel;
}

/** The owner of every tunnel of a worker (the registry drain waits on). */
export interface TunnelOwner {
  readonly idleWheel: DeadlineWheel;
  /** A tunnel's both legs are closed. */
  finished(tunnel: Tunnel): void;
  /** A relay step threw (logged; the tunnel ends with 1011). */
  relayFailed(err: unknown): void;
}

const BINARY = { binary: true };
const TEXT = { binary: false };

/** The relay between one client and its upstream; see the module comment. */
export class Tunnel implements DeadlineEntry {
  /** The client leg; null until uWS opened it and after it closed. */
  client: UwsWebSocket<ClientData> | null = null;
  private clientDone = false;
  private upstreamDone = false;
  /** Both legs closed and accounted (settle ran). */
  private settled = false;
  /** The gateway ended the client leg itself (its uWS close event is not passed on). */
  private closingClient = false;
  /** The gateway closed the upstream leg itself (its close event is not passed on). */
  private closingUpstream = false;
  /** The upstream is paused because the client is not reading. */
  private paused = false;
  /** A frame went either way since the last idle check. */
  private active = true;
  private quietChecks = 0;
  private failure: UpstreamFailure = 'none';
  private cause: CloseCause | null = null;
  private readonly checkMs: number;
  private readonly backlogBytes: number;
  dlNext: DeadlineEntry | null = null;
  dlPrev: DeadlineEntry | null = null;
  dlTick = -1;

  constructor(
    readonly route: TunnelRoute, readonly upstream: WsClient, private readonly group: UpstreamGroup, private readonly target: Target,
    private readonly owner: TunnelOwner,
  ) {
    this.checkMs = route.idleTimeoutMs / IDLE_CHECKS;
    this.backlogBytes = route.maxPayloadBytes + UPSTREAM_BACKLOG_SLACK;
    route.series.open++;
    (upstream as TunnelSocket)[TUNNEL] = this;
    upstream.on('message', onUpstreamMessage);
    upstream.on('ping', onUpstreamPing);
    upstream.on('pong', onUpstreamPong);
    upstream.on('error', onUpstreamError);
    upstream.on('close', onUpstreamClose);
  }

  /** uWS opened the client leg (inside `res.upgrade`). */
  opened(ws: UwsWebSocket<ClientData>): void {
    this.client = ws;
    this.route.series.accepted++;
    if (this.checkMs > 0) this.owner.idleWheel.schedule(this, performance.now() + this.checkMs);
  }

  /** A data message from the client (uWS's ArrayBuffer, valid only during this call). */
  fromClient(message: ArrayBuffer, isBinary: boolean): void {
    this.active = true;
    const n = message.byteLength;
    if (n > this.route.maxPayloadBytes) {
      this.endBoth('too_big', CloseCode.MESSAGE_TOO_BIG, 'message over maxPayload', CloseCode.GOING_AWAY, 'client message over maxPayload');
      return;
    }
    const s = this.route.series;
    s.toUpstreamMessages++;
    s.toUpstreamBytes += n;
    // why: ws masks the ArrayBuffer into a frame buffer of its own before
    // send() returns (see frame-mask.ts), so nothing keeps the view uWS
    // detaches after this handler, and there is one copy, not two.
    this.upstream.send(message, isBinary ? BINARY : TEXT);
    if (this.upstream.bufferedAmount > this.backlogBytes) {
      this.endBoth('backlog', CloseCode.TRY_AGAIN_LATER, 'upstream not keeping up', CloseCode.GOING_AWAY, 'client outran the gateway buffer');
    }
  }

  /** A ping from the client (uWS has answered it): passed on so the upstream sees the client's keep-alives. */
  clientPing(message: ArrayBuffer): void {
    this.active = true;
    if (this.upstream.readyState === 1) this.upstream.ping(message);
    if (this.upstream.bufferedAmount > this.backlogBytes) {
      this.endBoth('backlog', CloseCode.TRY_AGAIN_LATER, 'upstream not keeping up', CloseCode.GOING_AWAY, 'client outran the gateway buffer');
    }
  }

  /** A pong from the client: the answer to an upstream ping the gateway passed on. */
  clientPong(message: ArrayBuffer): void {
    this.active = true;
    if (this.upstream.readyState === 1) this.upstream.pong(message);
  }

  /** uWS wrote out some of what it held for the client. */
  clientDrained(): void {
    this.active = true;
    const client = this.client;
    if (this.paused && client !== null && client.getBufferedAmount() < CLIENT_LOW_WATER) {
      this.paused = false;
      this.upstream.resume();
    }
  }

  /** uWS closed the client leg (any reason; also called from inside `client.end`). */
  clientClosed(code: number, message: ArrayBuffer): void {
    if (this.clientDone) return;
    this.clientDone = true;
    this.client = null;
    if (!this.closingClient) {
      const reason = message.byteLength === 0 ? '' : Buffer.from(message).toString();
      this.cause ??= code === ABNORMAL ? 'client_lost' : 'client_closed';
      const c = closeForUpstream(code, reason);
      this.closeUpstream(c.code, c.reason);
    }
    this.settle();
  }

  /** A data message from the upstream. */
  toClient(data: Buffer, isBinary: boolean): void {
    const client = this.client;
    if (client === null) return;
    this.active = true;
    const s = this.route.series;
    s.toClientMessages++;
    s.toClientBytes += data.length;
    // 1 = sent, 0 = part of it is buffered in uWS, 2 = dropped (over maxBackpressure: uWS closes the socket).
    if (client.send(data, isBinary) !== 1 && !this.paused && this.client !== null && client.getBufferedAmount() >= CLIENT_HIGH_WATER) {
      this.paused = true;
      this.upstream.pause();
    }
  }

  /** A ping from the upstream: passed to the client, whose pong goes back (ws answers none itself: autoPong off). */
  upstreamPing(data: Buffer): void {
    this.active = true;
    if (this.client !== null) this.client.ping(data);
  }

  /** A pong from the upstream (it answers a client ping uWS already answered): not passed on. */
  upstreamPong(): void {
    this.active = true;
  }

  /** The ws library reported an error on the upstream leg (a close event follows). */
  upstreamErrored(err: unknown): void {
    if (this.failure === 'none') this.failure = upstreamFailure(err);
  }

  /** The upstream leg is closed (after its closing handshake, or when the connection ended). */
  upstreamClosed(code: number, reason: Buffer): void {
    if (this.upstreamDone) return;
    this.upstreamDone = true;
    this.group.onFinish(this.target);
    if (!this.closingUpstream && this.client !== null) {
      const c = closeForClient(code, reason.toString(), this.failure);
      this.cause ??= this.failure !== 'none' && this.failure !== 'lost' ? 'upstream_error' : c.code === CloseCode.INTERNAL_ERROR ? 'upstream_lost' : 'upstream_closed';
      this.closingClient = true;
      const client = this.client;
      client.end(c.code, c.reason);
    }
    this.settle();
  }

  /** Ends both legs with the gateway's own codes (idle, limits, shutdown). */
  endBoth(cause: CloseCause, clientCode: number, clientReason: string, upstreamCode: number, upstreamReason: string): void {
    this.cause ??= cause;
    const client = this.client;
    if (client !== null) {
      this.closingClient = true;
      client.end(clientCode, clientReason);
    }
    this.closeUpstream(upstreamCode, upstreamReason);
  }

  /** Closes the upstream leg (code 0: an empty close frame). */
  private closeUpstream(code: number, reason: string): void {
    if (this.upstreamDone || this.closingUpstream) return;
    this.closingUpstream = true;
    // A paused socket would not read the upstream's answering close frame.
    if (this.paused) { this.paused = false; this.upstream.resume(); }
    if (code === 0) this.upstream.close();
    else this.upstream.close(code, reason);
  }

  /**
   * A relay step threw (a gateway bug, never expected): both legs end with
   * 1011 and the connection is dropped; the worker goes on. Never throws.
   */
  failed(err: unknown): void {
    this.owner.relayFailed(err);
    try {
      this.endBoth('gateway_error', CloseCode.INTERNAL_ERROR, 'gateway error', CloseCode.INTERNAL_ERROR, 'gateway error');
    } catch {
      // The legs are in a state ending them cleanly no longer works: drop both.
      try { this.client?.close(); } catch { /* already closed */ }
      this.clientDone = true;
      this.client = null;
      try { this.upstream.terminate(); } catch { /* already closed */ }
    }
    this.settle();
  }

  /** Drops the upstream connection at once (drain, after the close frames had their time). */
  terminate(): void {
    this.upstream.terminate();
  }

  /** The client leg never opened: count it closed and drop the upstream. */
  abandon(): void {
    this.clientDone = true;
    this.closingUpstream = true;
    this.cause ??= 'client_lost';
    this.upstream.terminate();
  }

  /** DeadlineEntry: an idle check is due. */
  onDeadline(): void {
    if (this.clientDone) return;
    if (this.active) {
      this.active = false;
      this.quietChecks = 0;
    } else if (++this.quietChecks >= IDLE_CHECKS) {
      this.endBoth('idle', CloseCode.GOING_AWAY, 'idle timeout', CloseCode.GOING_AWAY, 'idle timeout');
      return;
    }
    this.owner.idleWheel.schedule(this, performance.now() + this.checkMs);
  }

  /** Once both legs are closed: metrics and the owner's registry. */
  private settle(): void {
    if (!this.clientDone || !this.upstreamDone || this.settled) return;
    this.settled = true;
    this.owner.idleWheel.cancel(this);
    const s = this.route.series;
    s.open--;
    s.closed(this.cause ?? 'client_closed');
    this.owner.finished(this);
  }
}

const TUNNEL = Symbol('turnpike.tunnel');
type TunnelSocket = WsClient & { [TUNNEL]: Tunnel };

/** The tunnel a ws socket belongs to (set by the constructor). */
function tunnelOf(ws: WsClient): Tunnel {
  return (ws as TunnelSocket)[TUNNEL];
}

// why: module-level listeners (the tunnel is found on the socket) instead of
// five closures per connection; an exception must not escape an event
// listener (it would be uncaught and end the worker).
function onUpstreamMessage(this: WsClient, data: Buffer, isBinary: boolean): void {
  const t = tunnelOf(this);
  try { t.toClient(data, isBinary); } catch (err) { t.failed(err); }
}
function onUpstreamPing(this: WsClient, data: Buffer): void {
  const t = tunnelOf(this);
  try { t.upstreamPing(data); } catch (err) { t.failed(err); }
}
function onUpstreamPong(this: WsClient): void { tunnelOf(this).upstreamPong(); }
function onUpstreamError(this: WsClient, err: Error): void { tunnelOf(this).upstreamErrored(err); }
function onUpstreamClose(this: WsClient, code: number, reason: Buffer): void {
  const t = tunnelOf(this);
  try { t.upstreamClosed(code, reason); } catch (err) { t.failed(err); }
}
