/**
 * WebSocket metrics of a worker, per route: open connections, connections
 * accepted, messages and payload bytes each way, and closes by cause. The
 * relay counts into plain numbers on a per-route series bound once per
 * connection (no label lookup per message); prom-client reads them when the
 * registry is scraped.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Why a proxied WebSocket ended (label `cause` of `turnpike_websocket_closes_total`). */
export const CLOSE_CAUSES = [
  /** The client sent a close frame. */
  'client_closed',
  /** The upstream sent a close frame. */
  'upstream_closed',
  /** The client's connection ended without a close frame (reset, FIN, uWS refused a frame or message). */
  'client_lost',
  /** The upstream's connection ended without a close frame (reset, FIN, socket error): client gets 1011. */
  'upstream_lost',
  /** The upstream sent an invalid frame (1014) or a message over maxPayload (1009). */
  'upstream_error',
  /** The client sent a message over the route's maxPayload (1009). */
  'too_big',
  /** No frame either way for idleTimeout (1001). */
  'idle',
  /** The client sent faster than the upstream read, beyond the gateway's buffer (1013). */
  'backlog',
  /** The worker drained (1001 after the grace period). */
  'shutdown',
  /** A gateway bug while relaying (1011 to both; never expected). */
  'gateway_error',
] as const;

/** One close cause. */
export type CloseCause = (typeof CLOSE_CAUSES)[number];

/** The counters of one route (the relay increments the fields directly). */
export class WebSocketSeries {
  /** Connections open now (both legs up or closing). */
  open = 0;
  /** Connections upgraded since start. */
  accepted = 0;
  /** Data messages (text and binary) from the client to the upstream. */
  toUpstreamMessages = 0;
  /** Their payload bytes. */
  toUpstreamBytes = 0;
  /** Data messages from the upstream to the client. */
  toClientMessages = 0;
  /** Their payload bytes. */
  toClientBytes = 0;
  /** Closes by cause, indexed like {@link CLOSE_CAUSES}. */
  readonly closes = new Float64Array(CLOSE_CAUSES.length);

  constructor(readonly route: string) {}

  /** Counts a close (once per connection). */
  closed(cause: CloseCause): void {
    this.closes[CLOSE_CAUSES.indexOf(cause)]++;
  }
}

/** Every route's series of one registry. */
export class WebSocketMetrics {
  private readonly series = new Map<string, WebSocketSeries>();

  /** The series of a route (by name), created on first use and kept across restarts in the same process. */
  route(name: string): WebSocketSeries {
    let s = this.series.get(name);
    if (s === undefined) {
      s = new WebSocketSeries(name);
      this.series.set(name, s);
    }
    return s;
  }

  /** Every series (scrape time). */
  all(): IterableIterator<WebSocketSeries> {
    return this.series.values();
  }
}

const byRegistry = new WeakMap<Registry, WebSocketMetrics>();

/**
 * The WebSocket metrics of `registry`, registered on first use:
 * `turnpike_websocket_connections{route}` (gauge),
 * `turnpike_websocket_connections_total{route}`,
 * `turnpike_websocket_messages_total{route,direction}` and
 * `turnpike_websocket_bytes_total{route,direction}` (direction `to_upstream`
 * or `to_client`; data messages and their payload bytes, not control frames),
 * `turnpike_websocket_closes_total{route,cause}` (see {@link CLOSE_CAUSES}).
 */
export function websocketMetrics(registry: Registry): WebSocketMetrics {
  let m = byRegistry.get(registry);
  if (m !== undefined) return m;
  const metrics = new WebSocketMetrics();
  m = metrics;
  byRegistry.set(registry, m);
  new Gauge({
    name: 'turnpike_websocket_connections', help: 'Proxied WebSocket connections open now, by route.',
    labelNames: ['route'] as const, registers: [registry],
    collect() { for (const s of metrics.all()) this.set({ route: s.route }, s.open); },
  });
  new Counter({
    name: 'turnpike_websocket_connections_total', help: 'WebSocket connections upgraded (the upstream accepted the handshake), by route.',
    labelNames: ['route'] as const, registers: [registry],
    collect() { this.reset(); for (const s of metrics.all()) this.inc({ route: s.route }, s.accepted); },
  });
  new Counter({
    name: 'turnpike_websocket_messages_total', help: 'WebSocket data messages relayed, by route and direction (to_upstream, to_client).',
    labelNames: ['route', 'direction'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const s of metrics.all()) {
        this.inc({ route: s.route, direction: 'to_upstream' }, s.toUpstreamMessages);
        this.inc({ route: s.route, direction: 'to_client' }, s.toClientMessages);
      }
    },
  });
  new Counter({
    name: 'turnpike_websocket_bytes_total', help: 'WebSocket message payload bytes relayed, by route and direction (to_upstream, to_client).',
    labelNames: ['route', 'direction'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const s of metrics.all()) {
        this.inc({ route: s.route, direction: 'to_upstream' }, s.toUpstreamBytes);
        this.inc({ route: s.route, direction: 'to_client' }, s.toClientBytes);
      }
    },
  });
  new Counter({
    name: 'turnpike_websocket_closes_total', help: 'Proxied WebSocket connections ended, by route and cause.',
    labelNames: ['route', 'cause'] as const, registers: [registry],
    collect() {
      this.reset();
      for (const s of metrics.all()) {
        for (let i = 0; i < CLOSE_CAUSES.length; i++) if (s.closes[i] > 0) this.inc({ route: s.route, cause: CLOSE_CAUSES[i] }, s.closes[i]);
      }
    },
  });
  return m;
}
