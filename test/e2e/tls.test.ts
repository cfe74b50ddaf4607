// TLS termination end to end: a gateway worker (this process) on a uWS
// SSLApp with certificates made by the openssl CLI, real upstreams, node's
// TLS client. Client certificates: tls-client-auth.test.ts; redirectHttp:
// redirect-http.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { connect as tlsConnect, createServer as createTlsServer, type ConnectionOptions } from 'node:tls';
import { request } from 'undici';
import { Agent as UndiciAgent } from 'undici';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { standardPki, type TestPki } from '../../src/tls/testing/test-pki.js';
import { configFromYaml, startUpstream, type TestUpstream } from './helpers.js';
import { tlsRequest, upstreamHeaders } from './tls-helpers.js';
import { startLibraryServer, type LibraryServer } from '../../loadtest/upstream/library-grpc-server.js';

/** Resolves with the negotiated protocol, or rejects with the handshake error. */
function handshake(port: number, o: ConnectionOptions): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ...o }, () => {
      const p = s.getProtocol() ?? '';
      s.destroy();
      resolvePromise(p);
    });
    s.on('error', reject);
  });
}

describe('TLS listener', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let gw: GatewayWorker;

  before(async () => {
    pki = standardPki();
    // The passphrase of the encrypted key comes from a file: secret.
    writeFileSync(pki.file('passphrase.txt'), 'server-secret\n');
    up = await startUpstream('u');
    gw = await startWorker(configFromYaml(`
server:
  tls:
    cert: ${pki.file('server.crt')}
    key: ${pki.file('server.enc.key')}
    passphrase: file:${pki.file('passphrase.txt')}
    sni:
      - { host: api.example.com, cert: ${pki.file('sni.crt')}, key: ${pki.file('sni.key')} }
upstreams: { u: { targets: [ { url: "${up.url}" } ] } }
routes:
  - { name: api-host, match: { host: api.example.com, path: /* }, upstream: u, rewrite: /from-api-host/* }
  - { name: all, match: { path: /* }, upstream: u }
`));
  });
  after(async () => {
    await gw?.drain(500);
    await up?.close();
    pki?.cleanup();
  });

  test('a request over TLS (encrypted key, passphrase from a file) reaches the upstream with X-Forwarded-Proto https', async () => {
    const r = await tlsRequest(pki, gw.port, '/hello', {
      headers: { 'x-forwarded-proto': 'http', 'x-client-cert-subject': 'CN=spoofed', 'x-client-cert-fingerprint': 'ab' },
    });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.peerCn, 'localhost');
    const h = upstreamHeaders(r);
    assert.equal(h['x-forwarded-proto'], 'https', 'the listener is TLS; a client value is not trusted');
    assert.equal(h['x-client-cert-subject'], undefined, 'client-sent certificate headers never reach the upstream');
    assert.equal(h['x-client-cert-fingerprint'], undefined);
    // undici (HTTP/1.1 keep-alive) over the same listener.
    const agent = new UndiciAgent({ connect: { ca: readFileSync(pki.file('ca.crt')), servername: 'localhost' } });
    try {
      for (let i = 0; i < 3; i++) {
        const u = await request(`https://127.0.0.1:${gw.port}/again/${i}`, { dispatcher: agent });
        assert.equal(u.statusCode, 200);
        assert.equal((await u.body.json() as { url: string }).url, `/again/${i}`);
      }
    } finally {
      await agent.close();
    }
  });

  test('SNI: the certificate follows the server name the client sends; other names and none get the default', async () => {
    const sni = await tlsRequest(pki, gw.port, '/x', { servername: 'api.example.com', headers: { host: 'api.example.com' } });
    assert.equal(sni.status, 200);
    assert.equal(sni.peerCn, 'api.example.com');
    assert.equal((sni.json as { url: string }).url, '/from-api-host/x', 'routed by Host like any request');
    const def = await tlsRequest(pki, gw.port, '/x', { servername: 'localhost' });
    assert.equal(def.peerCn, 'localhost');
    assert.equal((def.json as { url: string }).url, '/x');
    const other = await tlsRequest(pki, gw.port, '/x', { servername: 'unknown.example.org' });
    assert.equal(other.status, 200);
    assert.equal(other.peerCn, 'localhost');
    assert.notEqual(sni.peerFingerprint, def.peerFingerprint);
  });

  test('TLS 1.2 and 1.3 are accepted; a TLS 1.1 client is refused (and that client does speak TLS 1.1)', async () => {
    const ca = readFileSync(pki.file('ca.crt'));
    assert.equal(await handshake(gw.port, { ca, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' }), 'TLSv1.2');
    assert.equal(await handshake(gw.port, { ca, minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3' }), 'TLSv1.3');
    // SECLEVEL=0 lets node's OpenSSL 3 offer TLS 1.1 at all.
    const old: ConnectionOptions = { ca, minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' };
    await assert.rejects(handshake(gw.port, old), (err: NodeJS.ErrnoException) => {
      assert.match(String(err.code), /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL|WRONG_VERSION/, String(err.code));
      return true;
    });
    // Control: the same client options complete a TLS 1.1 handshake with a server that allows it.
    const lax = createTlsServer({
      cert: readFileSync(pki.file('server.crt')), key: readFileSync(pki.file('server.key')), minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0',
    }, (s) => s.end());
    await new Promise<void>((r) => lax.listen(0, '127.0.0.1', r));
    try {
      assert.equal(await handshake((lax.address() as { port: number }).port, old), 'TLSv1.1');
    } finally {
      lax.close();
    }
  });
});

describe('TLS listener with a transcoded (gRPC) route', () => {
  const PROTOS = resolve('config/protos');
  const LIBRARY = join(PROTOS, 'example/library/v1/library.proto');
  let pki: TestPki;
  let srv: LibraryServer;
  let gw: GatewayWorker;

  before(async () => {
    pki = standardPki();
    srv = await startLibraryServer(LIBRARY, PROTOS);
    gw = await startWorker(configFromYaml(`
server:
  tls: { cert: ${pki.file('server.crt')}, key: ${pki.file('server.key')} }
upstreams:
  library: { targets: [ { url: "h2c://127.0.0.1:${srv.port}" } ], protocol: grpc }
grpc:
  - upstream: library
    protos: [ "${LIBRARY}" ]
    includeDirs: [ "${PROTOS}" ]
    services: [ example.library.v1.LibraryService ]
    routes: [ { rpc: example.library.v1.LibraryService/Echo, method: POST, path: /v1/echo, body: "*" } ]
    timeout: 2s
`));
  });
  after(async () => {
    await gw?.drain(500);
    await srv?.stop();
    pki?.cleanup();
  });

  test('the gRPC metadata says X-Forwarded-Proto https', async () => {
    const agent = new UndiciAgent({ connect: { ca: readFileSync(pki.file('ca.crt')), servername: 'localhost' } });
    try {
      const r = await request(`https://127.0.0.1:${gw.port}/v1/echo`, {
        dispatcher: agent, method: 'POST', body: '{"text":"hi"}', headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'http' },
      });
      const text = await r.body.text();
      assert.equal(r.statusCode, 200, text);
      assert.equal(srv.lastMetadata['x-forwarded-proto'], 'https');
    } finally {
      await agent.close();
    }
  });
});
