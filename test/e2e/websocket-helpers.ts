/**
 * Helpers of the WebSocket end-to-end tests: a real upstream (node:http
 * server with a ws WebSocketServer on its upgrade event, plain requests
 * answered with JSON), and ws clients with promise helpers.
 */
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { WebSocket, WebSocketServer, type ClientOptions, type RawData } from 'ws';

/** One connection the upstream accepted. */
export interface UpstreamConn {
  ws: WebSocket;
  url: string;
  headers: IncomingHttpHeaders;
  /** Closes the upstream saw (code, reason). */
  closed: Promise<{ code: number; reason: string }>;
  /** Pings the upstream received (payloads). */
  pings: string[];
  /** Pongs the upstream received (payloads). */
  pongs: string[];
}

/** What the upstream does with a connection (default: echo every message). */
export type ConnHandler = (conn: UpstreamConn) => void;

/** A real WebSocket upstream. */
export interface WsUpstream {
  port: number;
  url: string;
  server: Server;
  wss: WebSocketServer;
  conns: UpstreamConn[];
  /** Plain (non-upgrade) requests seen: method, url, headers. */
  plain: Array<{ method: string; url: string; headers: IncomingHttpHeaders }>;
  /** The latest connection accepted (a client's open resolves after its upstream accepted). */
  latest(): UpstreamConn;
  close(): Promise<void>;
}

/** Options of {@link startWsUpstream}. */
export interface WsUpstreamOptions {
  onConn?: ConnHandler;
  /** Picks the subprotocol (default: the first offered). */
  handleProtocols?: (offered: Set<string>) => string | false;
  /** Answers the upgrade itself instead of accepting it (e.g. a 403), given the request. */
  refuse?: (req: IncomingMessage, socket: Socket) => boolean;
  /** Extra 101 headers. */
  upgradeHeaders?: string[];
  /** ws server maxPayload (default 100 MiB). */
  maxPayload?: number;
  /** Serve https/wss with this certificate and key (PEM). */
  tls?: { cert: Buffer; key: Buffer };
}

/** Starts an upstream: WebSocket echo on upgrades, JSON echo (`{method,url,headers}`) on plain requests. */
export async function startWsUpstream(o: WsUpstreamOptions = {}): Promise<WsUpstream> {
  const conns: UpstreamConn[] = [];
  const plain: WsUpstream['plain'] = [];
  const onRequest: RequestListener = (req, res) => {
    plain.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'plain' });
      res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
    });
  };
  const server: Server = o.tls === undefined ? createServer(onRequest) : createHttpsServer({ cert: o.tls.cert, key: o.tls.key }, onRequest);
  const wss = new WebSocketServer({
    noServer: true, perMessageDeflate: true, maxPayload: o.maxPayload ?? 100 * 1024 * 1024,
    handleProtocols: o.handleProtocols ?? ((offered) => (offered.size > 0 ? [...offered][0] : false)),
  });
  if (o.upgradeHeaders !== undefined) wss.on('headers', (headers) => headers.push(...o.upgradeHeaders!));
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (o.refuse?.(req, socket)) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      let resolveClosed!: (v: { code: number; reason: string }) => void;
      const conn: UpstreamConn = {
        ws, url: req.url ?? '', headers: req.headers, pings: [], pongs: [],
        closed: new Promise((r) => { resolveClosed = r; }),
      };
      ws.on('close', (code, reason) => resolveClosed({ code, reason: reason.toString() }));
      ws.on('ping', (d) => conn.pings.push(d.toString()));
      ws.on('pong', (d) => conn.pongs.push(d.toString()));
      ws.on('error', () => { /* the test looks at the close */ });
      conns.push(conn);
      if (o.onConn !== undefined) o.onConn(conn);
      else ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    port, url: `${o.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`, server, wss, conns, plain,
    latest: () => {
      const c = conns.at(-1);
      if (c === undefined) throw new Error('the upstream accepted no connection');
      return c;
    },
    close: async () => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** An open client and the gateway's 101 answer. */
export interface OpenClient {
  ws: WebSocket;
  headers: IncomingHttpHeaders;
}

/** What a refused handshake got instead of 101. */
export class Refused extends Error {
  constructor(readonly status: number, readonly headers: IncomingHttpHeaders, readonly body: string) {
    super(`handshake refused with ${status}: ${body}`);
  }
  /** The problem+json document (when it is one). */
  get json(): Record<string, unknown> { return JSON.parse(this.body) as Record<string, unknown>; }
}

/** Client options, TLS ones (servername) included. */
export type ClientOpts = ClientOptions & Pick<ConnectionOptions, 'servername'>;

/** Opens a client; rejects with {@link Refused} when the answer is not 101, or the error. */
export function openClient(url: string, protocols: string[] = [], options: ClientOpts = {}): Promise<OpenClient> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, options);
    let headers: IncomingHttpHeaders = {};
    ws.on('upgrade', (res) => { headers = res.headers; });
    ws.once('open', () => resolve({ ws, headers }));
    ws.on('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => { ws.terminate(); reject(new Refused(res.statusCode ?? 0, res.headers, Buffer.concat(chunks).toString())); });
    });
    ws.on('error', (err) => reject(err));
  });
}

/** The handshake's refusal (fails the test when it was accepted). */
export async function refusal(url: string, protocols: string[] = [], options: ClientOpts = {}): Promise<Refused> {
  try {
    const c = await openClient(url, protocols, options);
    c.ws.terminate();
  } catch (err) {
    if (err instanceof Refused) return err;
    throw err;
  }
  throw new Error('the handshake was accepted');
}

/** Resolves with the next message; rejects when the connection closes first. */
export async function nextMessage(ws: WebSocket): Promise<{ data: Buffer; isBinary: boolean }> {
  return (await messages(ws, 1))[0];
}

/**
 * Resolves with the next `n` messages (listening from now on, so none of a
 * burst is missed); rejects, naming the close code and how many came, when
 * the connection closes first (a test then fails instead of waiting forever).
 */
export function messages(ws: WebSocket, n: number): Promise<Array<{ data: Buffer; isBinary: boolean }>> {
  const got: Array<{ data: Buffer; isBinary: boolean }> = [];
  return new Promise((resolve, reject) => {
    const on = (data: RawData, isBinary: boolean): void => {
      got.push({ data: data as Buffer, isBinary });
      if (got.length === n) { ws.off('message', on); ws.off('close', closed); resolve(got); }
    };
    const closed = (code: number, reason: Buffer): void => {
      ws.off('message', on);
      reject(new Error(`the connection closed (${code} ${reason.toString()}) after ${got.length} of ${n} messages`));
    };
    ws.on('message', on);
    ws.once('close', closed);
  });
}

/** Resolves when the client is closed, with what it got. */
export function whenClosed(ws: WebSocket): Promise<{ code: number; reason: string }> {
  if (ws.readyState === WebSocket.CLOSED) return Promise.resolve({ code: -1, reason: 'already closed' });
  return new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

/** Waits `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every 20 ms until true, failing after `ms`. */
export async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
