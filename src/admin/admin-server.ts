import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, type ErrorCode } from '../errors/codes.js';
import type { Logger } from '../observability/logger.js';
import { ListenError } from '../process/listen-check.js';
import { checkBearer, isOpenAdminPath } from './admin-auth.js';

/** Content type of the Prometheus text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Readiness as the admin server needs it: the verdict plus whatever detail to show. */
export interface ReadinessReport {
  ready: boolean;
}

/** What the admin server serves; every provider is called per request. */
export interface AdminServerOptions {
  host: string;
  /** 0 picks a free port; read the bound one from {@link AdminServer.port}. */
  port: number;
  logger: Logger;
  /** Worker readiness (`GET /readyz`: 200 when `ready`, else 503). */
  readiness(): ReadinessReport;
  /** Aggregated Prometheus text for `GET /metrics`. */
  metrics(): Promise<string>;
  /** JSON for `GET /routes` (served as given). */
  routes(): unknown;
  /** JSON for `GET /consumers` (served as given; never key material). Absent: `{ consumers: [] }`. */
  consumers?(): unknown;
  /**
   * Extension point: named providers whose results appear under `details` in
   * `/readyz` (e.g. shared-state connectivity). A provider that throws shows
   * `{ error }` instead. Add or remove entries at any time.
   */
  details?: Map<string, () => unknown>;
  /** Extra endpoints (matched by method and exact path before the built-in ones). */
  endpoints?: readonly AdminEndpoint[];
  /**
   * The admin token's SHA-256 (hex), read per request (a reload may change
   * it); null or absent: no token. With a token every endpoint but the
   * {@link isOpenAdminPath open ones} needs `Authorization: Bearer <token>`
   * (else 401), and `/readyz` shows only `{ ready }` without it.
   */
  tokenSha256?: () => string | null;
}

/** What an extra admin endpoint answers: a status and a JSON body (problem bodies use {@link adminProblem}). */
export interface AdminAnswer {
  status: number;
  body: unknown;
  /** Default `application/json`. */
  contentType?: string;
  /** Extra response headers. */
  headers?: Readonly<Record<string, string>>;
}

/**
 * An extra admin endpoint (e.g. `GET /upstreams`, `DELETE /cache`), served
 * before the built-in ones. `handle` gets the query parameters (the last
 * value of a repeated one) and may be asynchronous.
 */
export interface AdminEndpoint {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly path: string;
  handle(query: Readonly<Record<string, string>>): AdminAnswer | Promise<AdminAnswer>;
}

/** An {@link AdminAnswer} with a problem+json body of the gateway's own codes. */
export function adminProblem(kind: ErrorCode, detail: string): AdminAnswer {
  return {
    status: kind.status,
    contentType: 'application/problem+json',
    body: { type: PROBLEM_TYPE_PREFIX + kind.code, title: kind.title, status: kind.status, detail, code: kind.code },
  };
}

/** A running admin listener. */
export interface AdminServer {
  readonly server: Server;
  readonly host: string;
  /** The port actually bound. */
  readonly port: number;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json',
  headers?: Readonly<Record<string, string>>): void {
  // A Buffer body (static files) goes out as is; anything else as JSON.
  const data = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
  res.writeHead(status, {
    'cache-control': 'no-store', 'x-content-type-options': 'nosniff', ...headers, 'content-type': contentType, 'content-length': data.length,
  });
  res.end(data);
}

/** Same `type` URI scheme as the gateway's own problem bodies (src/response/problem.ts). */
const PROBLEM_TYPE_PREFIX = 'urn:turnpike:problem:';

function problem(res: ServerResponse, kind: ErrorCode, detail: string): void {
  const body = { type: PROBLEM_TYPE_PREFIX + kind.code, title: kind.title, status: kind.status, detail, code: kind.code };
  sendJson(res, kind.status, body, 'application/problem+json');
}

function serveEndpoint(endpoint: AdminEndpoint, url: string, res: ServerResponse, logger: Logger): void {
  const query: Record<string, string> = {};
  for (const [k, v] of new URL(url, 'http://admin').searchParams) query[k] = v;
  const failed = (err: unknown): void => {
    logger.error({ err: err instanceof Error ? err.message : String(err), path: endpoint.path }, 'admin endpoint failed');
    if (!res.headersSent) problem(res, ErrorCodes.INTERNAL, 'admin request failed');
  };
  try {
    Promise.resolve(endpoint.handle(query)).then((a) => sendJson(res, a.status, a.body, a.contentType, a.headers), failed);
  } catch (err) {
    failed(err);
  }
}

/** 401 with `WWW-Authenticate: Bearer` (RFC 6750; `error="invalid_token"` for a wrong token). */
function unauthorized(res: ServerResponse, verdict: 'missing' | 'invalid'): void {
  const challenge = verdict === 'invalid' ? 'Bearer realm="turnpike-admin", error="invalid_token"' : 'Bearer realm="turnpike-admin"';
  res.setHeader('www-authenticate', challenge);
  problem(res, verdict === 'invalid' ? ErrorCodes.INVALID_TOKEN : ErrorCodes.UNAUTHORIZED,
    verdict === 'invalid' ? 'the admin token is not valid' : 'this admin endpoint needs Authorization: Bearer <admin token>');
}

function collectDetails(details: Map<string, () => unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (details === undefined) return out;
  for (const [name, provide] of details) {
    try {
      out[name] = provide();
    } catch (err) {
      out[name] = { error: err instanceof Error ? err.message : String(err) };
    }
  }
  return out;
}

/**
 * Starts the admin HTTP listener (health, readiness, metrics, routes, consumers) in the
 * primary. Resolves once bound; rejects with a {@link ListenError}
 * (`cannot listen on 127.0.0.1:9901 (admin): address in use`) if the address
 * cannot be bound.
 */
export function startAdminServer(options: AdminServerOptions): Promise<AdminServer> {
  const endpoints = options.endpoints ?? [];
  const handle = function handleAdmin(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const path = url.split('?', 1)[0];
    const method = req.method ?? 'GET';
    const tokenSha256 = options.tokenSha256?.() ?? null;
    let authorized = true;
    if (tokenSha256 !== null) {
      const verdict = checkBearer(req.headers.authorization, tokenSha256);
      authorized = verdict === 'ok';
      if (verdict !== 'ok' && !isOpenAdminPath(path)) {
        unauthorized(res, verdict);
        return;
      }
    }
    const endpoint = endpoints.find((e) => e.path === path && (e.method === method || (e.method === 'GET' && method === 'HEAD')));
    if (endpoint !== undefined) {
      serveEndpoint(endpoint, url, res, options.logger);
      return;
    }
    const allowed = endpoints.filter((e) => e.path === path).map((e) => e.method);
    // An extra endpoint's path asked with another method (GET included, e.g. GET /cache): 405 with what it allows.
    if ((method !== 'GET' && method !== 'HEAD') || allowed.length > 0) {
      res.setHeader('allow', allowed.length > 0 ? allowed.join(', ') : 'GET, HEAD');
      problem(res, ErrorCodes.METHOD_NOT_ALLOWED, `${method} is not supported by the admin API`);
      return;
    }
    switch (path) {
      case '/healthz':
        sendJson(res, 200, { status: 'ok' });
        return;
      case '/readyz': {
        const report = options.readiness();
        // why: open to probes, but worker pids, generations and details are for token holders only.
        if (!authorized) sendJson(res, report.ready ? 200 : 503, { ready: report.ready });
        else sendJson(res, report.ready ? 200 : 503, { ...report, details: collectDetails(options.details) });
        return;
      }
      case '/metrics':
        options.metrics().then(
          (text) => {
            res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(text) });
            res.end(text);
          },
          (err: unknown) => {
            options.logger.error({ err: err instanceof Error ? err.message : String(err) }, 'metrics collection failed');
            problem(res, ErrorCodes.INTERNAL, 'metrics collection failed');
          },
        );
        return;
      case '/routes':
        sendJson(res, 200, options.routes());
        return;
      case '/consumers':
        sendJson(res, 200, options.consumers ? options.consumers() : { consumers: [] });
        return;
      default:
        problem(res, ErrorCodes.ROUTE_NOT_FOUND, `no admin endpoint at ${path}`);
    }
  };

  const server = createServer(function safeHandle(req, res) {
    try {
      handle(req, res);
    } catch (err) {
      options.logger.error({ err: err instanceof Error ? err.message : String(err), url: req.url }, 'admin request failed');
      if (!res.headersSent) problem(res, ErrorCodes.INTERNAL, 'admin request failed');
      else res.destroy();
    }
  });
  return new Promise<AdminServer>((resolve, reject) => {
    const failed = (err: Error): void => reject(new ListenError(options.host, options.port, 'admin', err));
    server.once('error', failed);
    server.listen(options.port, options.host, () => {
      server.off('error', failed);
      server.on('error', (err) => options.logger.error({ err: err.message }, 'admin server error'));
      const address = server.address() as AddressInfo;
      resolve({
        server,
        host: options.host,
        port: address.port,
        close() {
          return new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          });
        },
      });
    });
  });
}
