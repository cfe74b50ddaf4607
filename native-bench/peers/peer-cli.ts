/**
 * Command line, route file and shutdown handling shared by the Node.js peer
 * proxies (fast-gateway-proxy.ts, fastify-proxy.ts).
 */
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { RequestIdGenerator } from '../../src/ingress/request-id.js';

/** What a peer script was asked to do. */
export interface PeerArgs {
  port: number;
  /** Upstream origin, e.g. `http://127.0.0.1:8080`. */
  upstream: string;
  /** Route patterns from `--routes FILE`; null = one catch-all route. */
  routes: string[] | null;
  /** `--forward-headers`: add X-Forwarded-For/-Proto/-Host and X-Request-Id as Turnpike does. */
  forwardHeaders: boolean;
  /** `--pool N`: upstream connections per origin (default {@link POOL_CONNECTIONS}). */
  pool: number;
}

/** Upstream keep-alive pool size per origin, as Turnpike's default `connections`. */
export const POOL_CONNECTIONS = 128;
/** Idle upstream connection lifetime, as the benchmark's Turnpike config (300 s). */
export const POOL_KEEPALIVE_MS = 300_000;
/** Request body limit for peers that enforce one (bodies are streamed, not buffered). */
export const BODY_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Parses `--port P --upstream URL [--routes FILE] [--forward-headers]`;
 * throws with a usage line on anything else.
 */
export function parsePeerArgs(argv: string[]): PeerArgs {
  const usage = 'usage: --port P --upstream http://HOST:PORT [--routes FILE] [--pool N] [--forward-headers]';
  let port = NaN;
  let upstream = '';
  let routesFile = '';
  let forwardHeaders = false;
  let pool = POOL_CONNECTIONS;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--forward-headers') { forwardHeaders = true; continue; }
    const v = argv[i + 1];
    if (v === undefined) throw new Error(`${a} needs a value\n${usage}`);
    if (a === '--port') port = Number(v);
    else if (a === '--upstream') upstream = v;
    else if (a === '--routes') routesFile = v;
    else if (a === '--pool') pool = Number(v);
    else throw new Error(`unknown argument ${a}\n${usage}`);
    i++;
  }
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`bad or missing --port\n${usage}`);
  if (!Number.isInteger(pool) || pool < 1) throw new Error(`bad --pool (want an integer >= 1)\n${usage}`);
  if (!/^http:\/\/[^/]+\/?$/.test(upstream)) throw new Error(`bad or missing --upstream (want http://host:port)\n${usage}`);
  return { port, upstream: upstream.replace(/\/$/, ''), routes: routesFile === '' ? null : readRoutes(routesFile), forwardHeaders, pool };
}

/** Reads a JSON array of `{ path }` route patterns. */
export function readRoutes(file: string): string[] {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  if (!Array.isArray(parsed) || parsed.length === 0) throw new Error(`${file}: want a non-empty JSON array of { path }`);
  return parsed.map((r: unknown, i) => {
    const path = (r as { path?: unknown } | null)?.path;
    if (typeof path !== 'string' || !path.startsWith('/')) throw new Error(`${file}[${i}]: path must be a string starting with /`);
    return path;
  });
}

/**
 * Runs `close` on SIGTERM/SIGINT, then exits 0; exits anyway after
 * `graceMs` if closing hangs (a client holding a keep-alive connection).
 */
export function exitOnSignals(close: () => Promise<void>, graceMs = 3000): void {
  let closing = false;
  const onSignal = (): void => {
    if (closing) return;
    closing = true;
    setTimeout(() => process.exit(0), graceMs).unref();
    close().then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`close failed: ${(err as Error).message}\n`);
      process.exit(1);
    });
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
}

/** Prints the line peer-procs.ts waits for. */
export function announceListening(port: number): void {
  process.stdout.write(`listening ${port}\n`);
}

/**
 * The forwarding headers Turnpike adds (see src/upstream/forward-headers.ts),
 * for a peer's request-header hook: X-Forwarded-For replaced by the peer
 * address, X-Forwarded-Proto `http`, X-Forwarded-Host the client's Host,
 * X-Request-Id kept when the client sent one (<= 200 chars) else generated.
 */
export class ForwardHeaders {
  // why: same prefix + counter ids as Turnpike, so both pay the same cost.
  private readonly ids = new RequestIdGenerator();

  /** The request id for a request with these client headers. */
  requestId(clientHeaders: IncomingHttpHeaders): string {
    const rid = clientHeaders['x-request-id'];
    return typeof rid === 'string' && rid !== '' && rid.length <= 200 ? rid : this.ids.next();
  }

  /** Sets the forwarding headers on the (already copied) upstream header object. */
  apply(headers: Record<string, unknown>, clientHost: string | undefined, peerIp: string | undefined, requestId: string): void {
    headers['x-forwarded-for'] = peerIp ?? '';
    headers['x-forwarded-proto'] = 'http';
    if (clientHost !== undefined) headers['x-forwarded-host'] = clientHost;
    headers['x-request-id'] = requestId;
  }
}
