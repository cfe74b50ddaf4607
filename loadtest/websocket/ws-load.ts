/**
 * The WebSocket load generator: N ws client connections to an echo endpoint,
 * each message timed from send (or scheduled send) to its echo. The echo
 * keeps order on a connection, so a FIFO of timestamps per connection pairs
 * each echo with its message (nothing is parsed out of the payload).
 *
 * - `throughput` (closed loop): every connection keeps `window` messages in
 *   flight, sending the next when an echo arrives; messages per second is
 *   what the path sustains, latency the round trip under that load.
 * - `latency` (open loop): message i is due at t0 + i/rate on connection
 *   i % N and sent then whatever came back; latency is charged from the due
 *   time (coordinated omission corrected, as the HTTP open-loop generator).
 */
import { performance } from 'node:perf_hooks';
import type { Histogram } from 'hdr-histogram-js';
import { WebSocket } from 'ws';
import { newLatencyHistogram, percentilesMs, recordLatencyMs, type LatencyPercentiles } from '../latency-percentiles.js';

/** What to run. */
export interface WsLoadOptions {
  /** ws:// URL of the echo endpoint (direct or through the gateway). */
  url: string;
  connections: number;
  /** Payload bytes of every (binary) message. */
  size: number;
  durationMs: number;
  /** Throughput mode: messages in flight per connection. */
  window?: number;
  /** Latency mode: messages per second over all connections. */
  rate?: number;
  /** How long to wait for echoes after sending stops, ms (default 5000). */
  drainTimeoutMs?: number;
}

/** Failures of a run. */
export interface WsLoadErrors {
  /** Connections that could not be opened. */
  connect: number;
  /** Connections that closed during the run. */
  closed: number;
}

/** Outcome of one run. */
export interface WsLoadResult {
  mode: 'throughput' | 'latency';
  /** Round-trip latency in µs (latency mode: from the due time). */
  histogram: Histogram;
  percentiles: LatencyPercentiles;
  sent: number;
  /** Echoes received. */
  completed: number;
  /** Messages without an echo when the run ended. */
  unfinished: number;
  /** Echoes per second over the sending window. */
  messagesPerSec: number;
  errors: WsLoadErrors;
}

/** One client connection and the timestamps of its messages in flight. */
class Conn {
  readonly times: number[] = [];
  head = 0;
  open = true;

  constructor(readonly ws: WebSocket) {}

  push(t: number): void { this.times.push(t); }

  /** The timestamp of the oldest message in flight. */
  shift(): number {
    const t = this.times[this.head++];
    // why: reset instead of Array.shift (O(n)) once the queue is drained.
    if (this.head === this.times.length) { this.times.length = 0; this.head = 0; }
    return t;
  }

  get inFlight(): number { return this.times.length - this.head; }
}

/** Opens `n` clients (no compression); resolves with the ones that opened and the number that failed. */
export async function openConnections(url: string, n: number): Promise<{ conns: WebSocket[]; failed: number }> {
  const results = await Promise.all(Array.from({ length: n }, () => new Promise<WebSocket | null>((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', () => resolve(null));
    ws.once('unexpected-response', () => { ws.terminate(); resolve(null); });
  })));
  const conns = results.filter((w): w is WebSocket => w !== null);
  return { conns, failed: n - conns.length };
}

/** Runs one throughput or latency measurement on fresh connections, then closes them. */
export async function runWsLoad(o: WsLoadOptions): Promise<WsLoadResult> {
  if (!(o.connections >= 1) || !(o.durationMs > 0) || !(o.size >= 0)) throw new RangeError('connections, durationMs and size must be positive');
  const mode = o.rate !== undefined ? 'latency' : 'throughput';
  const opened = await openConnections(o.url, o.connections);
  const errors: WsLoadErrors = { connect: opened.failed, closed: 0 };
  const histogram = newLatencyHistogram();
  const payload = Buffer.alloc(o.size, 0x61);
  const conns = opened.conns.map((ws) => new Conn(ws));
  let sent = 0;
  let completed = 0;
  let sending = true;
  let onIdle: (() => void) | null = null;
  const inFlight = (): number => conns.reduce((a, c) => a + (c.open ? c.inFlight : 0), 0);
  const window = Math.max(1, o.window ?? 8);
  for (const c of conns) {
    c.ws.on('message', () => {
      const now = performance.now();
      recordLatencyMs(histogram, now - c.shift());
      completed++;
      if (mode === 'throughput' && sending) { c.push(performance.now()); c.ws.send(payload); sent++; }
      if (onIdle !== null && inFlight() === 0) onIdle();
    });
    c.ws.on('close', () => { if (c.open) { c.open = false; if (sending) errors.closed++; if (onIdle !== null && inFlight() === 0) onIdle(); } });
    c.ws.on('error', () => { /* counted by close */ });
  }
  const t0 = performance.now();
  if (conns.length > 0) {
    if (mode === 'throughput') {
      for (const c of conns) for (let i = 0; i < window; i++) { c.push(performance.now()); c.ws.send(payload); sent++; }
      await new Promise<void>((r) => setTimeout(r, o.durationMs));
    } else {
      await openLoop(conns, o.rate!, o.durationMs, t0, payload, () => { sent++; });
    }
  }
  sending = false;
  const sendEnd = performance.now();
  const completedInWindow = completed;
  if (inFlight() > 0) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, o.drainTimeoutMs ?? 5000);
      function done(): void { clearTimeout(timer); onIdle = null; resolve(); }
      onIdle = done;
    });
  }
  const unfinished = inFlight();
  for (const c of conns) { c.open = false; c.ws.terminate(); }
  const seconds = (sendEnd - t0) / 1000;
  return {
    mode, histogram, percentiles: percentilesMs(histogram), sent, completed, unfinished, errors,
    messagesPerSec: seconds > 0 ? (mode === 'throughput' ? completedInWindow : completed) / seconds : 0,
  };
}

/** Sends message i at t0 + i/rate on connection i % N, recording its due time. */
function openLoop(conns: Conn[], rate: number, durationMs: number, t0: number, payload: Buffer, onSend: () => void): Promise<void> {
  const intervalMs = 1000 / rate;
  const total = Math.ceil((durationMs * rate) / 1000);
  let next = 0;
  return new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - t0) / intervalMs) + 1);
      for (; next < due; next++) {
        const c = conns[next % conns.length];
        if (!c.open) continue;
        c.push(t0 + next * intervalMs);
        c.ws.send(payload);
        onSend();
      }
      if (next >= total) { resolve(); return; }
      // why: sleep until the next due time; a late wake-up is charged to latency (the same for both targets).
      const wait = t0 + next * intervalMs - performance.now();
      setTimeout(tick, wait > 1 ? Math.round(wait) : 1);
    };
    tick();
  });
}
