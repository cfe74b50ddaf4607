/**
 * Creates the ioredis clients of the Redis-backed stores (rate limits, the
 * response cache), tuned to fail fast: no offline queue (a command while disconnected is rejected at once,
 * so the policy can fall back to its local store), no retry or re-send of a
 * command in flight when the connection drops, and reconnection with capped
 * exponential backoff (50 ms doubling to 2 s). A small health object follows
 * the connection from ioredis's events (for a cluster: the cluster client's
 * own state; one failed node shows up as failed takes on its slots only).
 */
import { Cluster, Redis } from 'ioredis';

/** The connection's state: `connecting` until the first ready, then `ready` / `down`. */
export type RedisHealthState = 'connecting' | 'ready' | 'down';

/** Live connection health (mutated in place on every change). */
export interface RedisHealth {
  state: RedisHealthState;
  /** Epoch ms of the last state change. */
  since: number;
  /** The last connection error's message, or null. */
  lastError: string | null;
}

/** Options of createRedisClient. */
export interface RedisClientOptions {
  /** Do not connect until `client.connect()` (default false). */
  readonly lazyConnect?: boolean;
  /** TCP connect timeout per attempt, ms (default 1000). */
  readonly connectTimeoutMs?: number;
  /** Called on every state change, after `health` is updated. */
  readonly onStateChange?: (state: RedisHealthState, health: RedisHealth) => void;
  /**
   * ioredis's own per-command timeout, ms (a command without a reply by then
   * rejects with "Command timed out"); default none (callers that race their
   * own timer, as the rate-limit store does, leave it unset).
   */
  readonly commandTimeoutMs?: number;
}

/** A created client and its health. */
export interface RedisClientHandle {
  readonly client: Redis | Cluster;
  readonly health: RedisHealth;
  readonly cluster: boolean;
  /** Closes the connection(s) (no more reconnects). */
  close(): Promise<void>;
}

/** A parsed Redis URL. */
export interface ParsedRedisUrl {
  readonly cluster: boolean;
  readonly nodes: ReadonlyArray<{ host: string; port: number }>;
  readonly db: number;
  readonly username?: string;
  readonly password?: string;
}

/** Reconnect delay for attempt `times` (1-based): 50 ms doubling, capped at 2 s. */
export function reconnectDelay(times: number): number {
  return Math.min(2000, 50 * 2 ** Math.min(6, Math.max(0, times - 1)));
}

function parseHostPort(s: string, url: string): { host: string; port: number } {
  const m = /^\[?([^\]]*?)\]?(?::(\d+))?$/.exec(s.trim());
  if (m === null || m[1] === '') throw new Error(`invalid Redis address "${s}" in ${url}`);
  const port = m[2] === undefined ? 6379 : Number(m[2]);
  if (!(port > 0 && port < 65536)) throw new Error(`invalid Redis port in ${url}`);
  return { host: m[1], port };
}

/**
 * Parses `redis://[user:pass@]host:port[/db]` (one node) and
 * `redis+cluster://h1:p1,h2:p2` or `redis://h1:p1,h2:p2` (a comma list: a cluster).
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  const m = /^(redis|redis\+cluster):\/\/(?:([^:@/]*)(?::([^@/]*))?@)?([^/]+)(?:\/(\d*))?$/.exec(url.trim());
  if (m === null) throw new Error(`invalid Redis URL "${url}": expected redis://host:port[/db] or redis+cluster://h1:p1,h2:p2`);
  const nodes = m[4].split(',').filter((s) => s.trim() !== '').map((s) => parseHostPort(s, url));
  const cluster = m[1] === 'redis+cluster' || nodes.length > 1;
  const db = m[5] ? Number(m[5]) : 0;
  if (cluster && db !== 0) throw new Error(`invalid Redis URL "${url}": a cluster has no database number`);
  const username = m[2] ? decodeURIComponent(m[2]) : undefined;
  const password = m[3] !== undefined ? decodeURIComponent(m[3]) : undefined;
  return { cluster, nodes, db, username, password };
}

/** Creates a fail-fast ioredis Redis or Cluster client for `url`, with health tracking. */
export function createRedisClient(url: string, opts: RedisClientOptions = {}): RedisClientHandle {
  const parsed = parseRedisUrl(url);
  const common = {
    enableOfflineQueue: false,
    // why: 0 rejects commands in flight when the connection drops (at once, as REDIS_DOWN) instead
    // of re-sending them after a reconnect, when the caller has long given up: no ghost takes.
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    connectTimeout: opts.connectTimeoutMs ?? 1000,
    ...(opts.commandTimeoutMs !== undefined && opts.commandTimeoutMs > 0 ? { commandTimeout: opts.commandTimeoutMs } : {}),
    username: parsed.username,
    password: parsed.password,
  };
  const client: Redis | Cluster = parsed.cluster
    ? new Cluster(parsed.nodes.map((n) => ({ host: n.host, port: n.port })), {
        enableOfflineQueue: false,
        lazyConnect: opts.lazyConnect ?? false,
        clusterRetryStrategy: reconnectDelay,
        redisOptions: common,
      })
    : new Redis({
        ...common,
        host: parsed.nodes[0].host,
        port: parsed.nodes[0].port,
        db: parsed.db,
        lazyConnect: opts.lazyConnect ?? false,
        retryStrategy: reconnectDelay,
      });
  const health: RedisHealth = { state: 'connecting', since: Date.now(), lastError: null };
  function set(state: RedisHealthState): void {
    if (health.state === state) return;
    health.state = state;
    health.since = Date.now();
    opts.onStateChange?.(state, health);
  }
  client.on('ready', () => set('ready'));
  client.on('error', (err: Error) => { health.lastError = err.message; });
  // 'close' fires on every lost or refused connection (first attempt included);
  // reconnection attempts leave the state at down until the next 'ready'.
  client.on('close', () => set('down'));
  client.on('end', () => set('down'));
  async function close(): Promise<void> {
    if (client.status === 'ready') {
      try {
        await client.quit();
        return;
      } catch {
        // fall through: drop the socket
      }
    }
    client.disconnect();
  }
  return { client, health, cluster: parsed.cluster, close };
}
