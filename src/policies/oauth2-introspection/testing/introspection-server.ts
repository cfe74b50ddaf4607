/**
 * A real RFC 7662 introspection endpoint for tests: checks the client's
 * authentication (Basic with form-encoded id and secret, or the credentials
 * in the form body), answers per token from a table the test fills, and can
 * fail, hang, hold answers back, or stop listening. Counts every call.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** How the endpoint answers. */
export type EndpointMode = 'ok' | 'error500' | 'hang' | 'garbage' | 'huge' | 'reset';

/** One call the endpoint received. */
export interface SeenCall {
  token: string;
  tokenTypeHint: string | null;
  contentType: string;
  /** How the client authenticated: 'basic', 'post', or 'none'; `ok` whether it matched. */
  auth: 'basic' | 'post' | 'none';
  authOk: boolean;
}

/** A running test endpoint. */
export interface IntrospectionServer {
  readonly url: string;
  readonly port: number;
  /** Token → introspection answer; an unknown token is `{ active: false }`. */
  readonly tokens: Map<string, Record<string, unknown>>;
  readonly calls: SeenCall[];
  mode: EndpointMode;
  /** Calls for `token` so far. */
  callsFor(token: string): number;
  /** Holds every answer until the returned function is called. */
  hold(): () => void;
  /** Stops listening (connections refused) until {@link start}. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

/** Options: the expected client credentials and, for https, a key and certificate. */
export interface IntrospectionServerOptions {
  clientId: string;
  clientSecret: string;
  /** Which client authentication is accepted (default: both). */
  accept?: 'basic' | 'post';
  tls?: { key: string; cert: string };
}

/** Decodes one application/x-www-form-urlencoded component. */
function formDecode(s: string): string {
  return decodeURIComponent(s.replaceAll('+', ' '));
}

/** Starts an endpoint on an ephemeral 127.0.0.1 port; the URL path is `/introspect`. */
export async function startIntrospectionServer(opts: IntrospectionServerOptions): Promise<IntrospectionServer> {
  const tokens = new Map<string, Record<string, unknown>>();
  const calls: SeenCall[] = [];
  let held: Array<() => void> | null = null;
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const form = new URLSearchParams(Buffer.concat(chunks).toString());
      let auth: SeenCall['auth'] = 'none';
      let authOk = false;
      const header = req.headers.authorization ?? '';
      if (header.startsWith('Basic ')) {
        auth = 'basic';
        const decoded = Buffer.from(header.slice(6), 'base64').toString();
        const colon = decoded.indexOf(':');
        authOk = colon > 0 && formDecode(decoded.slice(0, colon)) === opts.clientId && formDecode(decoded.slice(colon + 1)) === opts.clientSecret;
      } else if (form.has('client_id')) {
        auth = 'post';
        authOk = form.get('client_id') === opts.clientId && form.get('client_secret') === opts.clientSecret;
      }
      if (opts.accept !== undefined && auth !== opts.accept) authOk = false;
      const token = form.get('token') ?? '';
      calls.push({ token, tokenTypeHint: form.get('token_type_hint'), contentType: req.headers['content-type'] ?? '', auth, authOk });
      const answer = (): void => {
        if (server.mode === 'hang') return;
        if (server.mode === 'reset') { req.socket.destroy(); return; }
        if (req.method !== 'POST' || !authOk) {
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="idp"' });
          res.end('{"error":"invalid_client"}');
          return;
        }
        if (server.mode === 'error500') { res.writeHead(500); res.end('oops'); return; }
        if (server.mode === 'garbage') { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"active": tru'); return; }
        if (server.mode === 'huge') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ active: true, sub: 'x', pad: 'x'.repeat(100 * 1024) }));
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(tokens.get(token) ?? { active: false }));
      };
      if (held !== null) held.push(answer);
      else answer();
    });
  };
  const http: Server = opts.tls === undefined ? createHttpServer(handler) : createHttpsServer(opts.tls, handler);
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const port = (http.address() as AddressInfo).port;
  const server: IntrospectionServer = {
    url: `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}/introspect`,
    port,
    tokens,
    calls,
    mode: 'ok',
    callsFor: (token) => calls.filter((c) => c.token === token).length,
    hold() {
      const list: Array<() => void> = [];
      held = list;
      return () => { held = null; for (const a of list) a(); };
    },
    stop: () => new Promise<void>((r) => { http.closeAllConnections(); http.close(() => r()); }),
    start: () => new Promise<void>((r) => http.listen(port, '127.0.0.1', r)),
    close: () => new Promise<void>((r) => {
      http.closeAllConnections();
      if (!http.listening) { r(); return; }
      http.close(() => r());
    }),
  };
  return server;
}
