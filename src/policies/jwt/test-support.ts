/**
 * Test helpers for the jwt kind (unit and e2e tests): key pairs generated
 * by the test with jose, token signing, hand-made (forged) tokens, and a
 * real JWKS HTTP(S) server the test controls (rotate keys, fail with 500,
 * hang, count fetches).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { createHmac, KeyObject, sign as cryptoSign } from 'node:crypto';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

/** A generated key pair, its public JWK (with kid and alg) and SPKI PEM. */
export interface TestKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
  readonly jwk: JWK;
  readonly pem: string;
}

/** Generates an extractable key pair for `alg` (RS256, ES256, PS256, EdDSA...). */
export async function testKey(alg: string, kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, jwk, pem: await exportSPKI(publicKey) };
}

/** Epoch seconds now (offset by `delta` seconds). */
export function epoch(delta = 0): number {
  return Math.floor(Date.now() / 1000) + delta;
}

/** Signs `claims` with `key` (header alg and kid from the key unless `header` overrides them). */
export function signToken(key: TestKey, claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header } as never).sign(key.privateKey);
}

/** base64url of a JSON value or raw bytes. */
export function b64url(v: unknown): string {
  return (Buffer.isBuffer(v) ? v : Buffer.from(JSON.stringify(v))).toString('base64url');
}

/**
 * An RS256 token signed with node's crypto, header exactly as given (jose
 * refuses to sign some headers a test needs, e.g. an unknown `crit`).
 */
export function rawRs256Token(key: TestKey, header: Record<string, unknown>, claims: JWTPayload): string {
  const input = b64url({ alg: 'RS256', kid: key.kid, ...header }) + '.' + b64url(claims);
  const keyObject = KeyObject.from(key.privateKey as never);
  return input + '.' + cryptoSign('sha256', Buffer.from(input), keyObject).toString('base64url');
}

/** An unsigned token (`alg: none`, empty signature). */
export function unsignedToken(claims: JWTPayload, header: Record<string, unknown> = {}): string {
  return b64url({ alg: 'none', typ: 'JWT', ...header }) + '.' + b64url(claims) + '.';
}

/** An HS256 token whose HMAC secret is `secret` (e.g. an RSA public key's PEM bytes: the alg-confusion attack). */
export function hmacToken(secret: string | Buffer, claims: JWTPayload, header: Record<string, unknown> = {}): string {
  const input = b64url({ alg: 'HS256', typ: 'JWT', ...header }) + '.' + b64url(claims);
  return input + '.' + createHmac('sha256', secret).update(input).digest('base64url');
}

/** What the JWKS server does with a request. */
export type JwksMode = 'ok' | 'fail' | 'hang';

/** A real JWKS endpoint the test controls. */
export class JwksServer {
  /** Requests received (any path). */
  fetches = 0;
  mode: JwksMode = 'ok';
  keys: JWK[] = [];
  url = '';
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private readonly hanging: ServerResponse[] = [];

  private constructor(tlsOptions: { key: string; cert: string } | null) {
    const handler = (req: IncomingMessage, res: ServerResponse): void => {
      this.fetches++;
      req.resume();
      if (this.mode === 'hang') { this.hanging.push(res); return; }
      if (this.mode === 'fail') { res.writeHead(500, { 'content-type': 'text/plain' }); res.end('down'); return; }
      res.writeHead(200, { 'content-type': 'application/jwk-set+json' });
      res.end(JSON.stringify({ keys: this.keys }));
    };
    this.server = tlsOptions === null ? createHttpServer(handler) : createHttpsServer(tlsOptions, handler);
    this.server.on('connection', (s: Socket) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
  }

  /** Starts a server on 127.0.0.1 serving `keys` (https when `tls` is given: a key and certificate for 127.0.0.1/localhost). */
  static async start(keys: JWK[], tls: { key: string; cert: string } | null = null, host = '127.0.0.1'): Promise<JwksServer> {
    const s = new JwksServer(tls);
    s.keys = keys;
    await new Promise<void>((r) => s.server.listen(0, '127.0.0.1', r));
    const port = (s.server.address() as AddressInfo).port;
    s.url = `${tls === null ? 'http' : 'https'}://${host}:${port}/.well-known/jwks.json`;
    return s;
  }

  /** Stops answering hung requests and closes everything. */
  async close(): Promise<void> {
    for (const r of this.hanging) r.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
