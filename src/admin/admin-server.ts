import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, type ErrorCode } from '../errors/codes.js';
import type { Logger } from '../observability/logger.js';
import { ListenError } from '../process/listen-check.js';

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
}

/** A running admin listener. */
export interface AdminServer {
  readonly server: Server;
  readonly host: string;
  /** The port actually bound. */
  readonly port: number;
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** Same `type` URI scheme as the gateway's own problem bodies (src/response/problem.ts). */
const PROBLEM_TYPE_PREFIX = 'urn:turnpike:problem:';

function problem(res: ServerResponse, kind: ErrorCode, detail: string): void {
  const body = { type: PROBLEM_TYPE_PREFIX + kind.code, title: kind.title, status: kind.status, detail, code: kind.code };
  sendJson(res, kind.status, body, 'application/problem+json');
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
  const handle = function handleAdmin(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?', 1)[0];
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      problem(res, ErrorCodes.METHOD_NOT_ALLOWED, `${method} is not supported by the admin API`);
      return;
    }
    switch (path) {
      case '/healthz':
        sendJson(res, 200, { status: 'ok' });
        return;
      case '/readyz': {
        const report = options.readiness();
        sendJson(res, report.ready ? 200 : 503, { ...report, details: collectDetails(options.details) });
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
