/**
 * One HTTP/2 client session of a GrpcChannel with its bookkeeping: ready
 * once the server's first SETTINGS arrive (so its concurrent-stream limit is
 * known before any stream is opened), a connect timeout, and optional
 * keep-alive PINGs. Cleartext (h2c, prior knowledge) or over TLS.
 */
import http2 from 'node:http2';
import { openTlsConnection, tlsSessionError, type GrpcTlsOptions } from './tls-socket.js';

/** A session and its stream accounting. */
export interface SessionSlot {
  readonly session: http2.ClientHttp2Session;
  /** The server's first SETTINGS arrived. */
  ready: boolean;
  /** Streams open on this session. */
  active: number;
  /** Concurrent-stream limit: the server's, capped locally. */
  limit: number;
  /** First session error (e.g. ECONNREFUSED; a TLS failure as an UpstreamTlsError), for messages. */
  error: Error | null;
  readonly timers: NodeJS.Timeout[];
}

/** What a slot reports to its channel. */
export interface SlotEvents {
  /** First SETTINGS (ready) or a later SETTINGS update. */
  settings(slot: SessionSlot, first: boolean): void;
  /** GOAWAY received: no new streams on this session. */
  goaway(slot: SessionSlot): void;
  /** The session is gone (after a failed connect too). */
  closed(slot: SessionSlot): void;
}

/** Slot tuning (see GrpcChannelOptions). */
export interface SlotOptions {
  readonly maxConcurrentStreams: number;
  readonly connectTimeoutMs: number;
  readonly keepaliveIntervalMs: number;
  readonly keepaliveTimeoutMs: number;
}

/** Where a TLS slot connects: the target's host (no brackets) and port, and its TLS settings. */
export interface SlotTls {
  readonly host: string;
  readonly port: number;
  readonly options: GrpcTlsOptions;
}

/**
 * Connects to `origin` and wires the events: `http://host:port` with
 * prior-knowledge h2c when `tls` is null, else `https://host:port` over
 * {@link openTlsConnection}. The connect timeout covers TCP, the TLS
 * handshake and the server's SETTINGS.
 */
export function openSlot(origin: string, opts: SlotOptions, events: SlotEvents, tls: SlotTls | null = null): SessionSlot {
  const conn = tls === null ? null : openTlsConnection(tls.host, tls.port, tls.options);
  const session = conn === null ? http2.connect(origin, { settings: { enablePush: false } })
    : http2.connect(origin, { settings: { enablePush: false }, createConnection: () => conn.socket });
  const slot: SessionSlot = { session, ready: false, active: 0, limit: opts.maxConcurrentStreams, error: null, timers: [] };
  let timeout: Error | null = null;
  const connectTimer = setTimeout(() => {
    if (slot.ready) return;
    timeout = new Error(`no HTTP/2 SETTINGS within ${opts.connectTimeoutMs} ms`);
    session.destroy(timeout);
  }, opts.connectTimeoutMs);
  connectTimer.unref();
  slot.timers.push(connectTimer);
  session.on('remoteSettings', (s: http2.Settings) => {
    slot.limit = Math.min(s.maxConcurrentStreams ?? Infinity, opts.maxConcurrentStreams);
    const first = !slot.ready;
    if (first) {
      slot.ready = true;
      clearTimeout(connectTimer);
      if (opts.keepaliveIntervalMs > 0) keepalive(slot, opts);
    }
    events.settings(slot, first);
  });
  session.on('goaway', () => {
    stopTimers(slot);
    events.goaway(slot);
  });
  if (conn === null) session.on('error', (err: Error) => { slot.error ??= err; });
  else session.on('error', (err: Error) => { slot.error ??= tlsSessionError(conn, err, timeout); });
  session.once('close', () => {
    stopTimers(slot);
    events.closed(slot);
  });
  return slot;
}

function stopTimers(slot: SessionSlot): void {
  for (const t of slot.timers) clearTimeout(t);
  slot.timers.length = 0;
}

/** Sends a PING every interval; a PING unacknowledged for keepaliveTimeoutMs destroys the session. */
function keepalive(slot: SessionSlot, opts: SlotOptions): void {
  let outstanding = false;
  const interval = setInterval(() => {
    if (outstanding || slot.session.destroyed) return;
    const timer = setTimeout(() => {
      slot.session.destroy(new Error(`keep-alive PING not acknowledged within ${opts.keepaliveTimeoutMs} ms`));
    }, opts.keepaliveTimeoutMs);
    timer.unref();
    outstanding = true;
    const sent = slot.session.ping(() => {
      clearTimeout(timer);
      outstanding = false;
    });
    if (!sent) {
      clearTimeout(timer);
      outstanding = false;
    }
  }, opts.keepaliveIntervalMs);
  interval.unref();
  slot.timers.push(interval);
}
