import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/types.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';

/** A real upstream HTTP server started by a test. */
export interface TestUpstream {
  name: string;
  port: number;
  url: string;
  server: Server;
  /** Requests received, in order. */
  seen: Array<{ method: string; url: string; headers: IncomingMessage['headers']; bodyBytes: number }>;
  close(): Promise<void>;
}

/**
 * Starts an upstream that echoes what it received as JSON
 * (`{server, method, url, headers, bodyBytes}`), unless `handler` answers.
 */
export async function startUpstream(
  name: string,
  handler?: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
): Promise<TestUpstream> {
  const seen: TestUpstream['seen'] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyBytes: body.length });
      if (handler) return handler(req, res, body);
      const text = JSON.stringify({ server: name, method: req.method, url: req.url, headers: req.headers, bodyBytes: body.length });
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(text);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    name, port, url: `http://127.0.0.1:${port}`, server, seen,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A port with nothing listening on it (bound then released). */
export async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Normalised config from YAML text (validated exactly as the CLI does). */
export function configFromYaml(yaml: string): GatewayConfig {
  const config = parseConfig(yaml, 'test.yaml', {});
  config.server.host = '127.0.0.1';
  config.server.port = 0;
  // Tests that do not configure `log` keep the test runner's output free of access lines.
  if (!/^log:/m.test(yaml)) config.log.access.enabled = false;
  return config;
}

/** An in-process gateway worker for a test. */
export interface TestGateway {
  worker: GatewayWorker;
  base: string;
  port: number;
  close(): Promise<void>;
}

/** Starts one gateway worker in this process on an ephemeral port. */
export async function startGateway(yaml: string): Promise<TestGateway> {
  const worker = await startWorker(configFromYaml(yaml));
  return {
    worker, port: worker.port, base: `http://127.0.0.1:${worker.port}`,
    close: async () => { await worker.drain(1000); },
  };
}

/** Sends raw bytes on a fresh TCP connection and collects the reply until close or `ms`. */
export function rawRequest(port: number, bytes: string | Buffer, ms = 1000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const sock = connect(port, '127.0.0.1', () => sock.write(bytes));
    const done = (): void => { clearTimeout(t); sock.destroy(); resolve(Buffer.concat(chunks).toString('latin1')); };
    const t = setTimeout(done, ms);
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('close', done);
    sock.on('error', done);
  });
}

/**
 * A request through node:http, which (unlike fetch and undici) lets a test
 * send any header, Connection and Keep-Alive included.
 */
export function nodeRequest(
  port: number, path: string, headers: OutgoingHttpHeaders, method = 'GET', body?: Buffer | string,
): Promise<{ status: number; headers: IncomingMessage['headers']; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
