// WebSocket proxying over TLS: wss:// clients on the gateway's TLS listener
// (default certificate and an SNI host), wss:// upstreams verified with the
// upstream's tls settings, and client certificates on the handshake.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { standardPki, type TestPki } from '../../src/tls/testing/test-pki.js';
import { configFromYaml } from './helpers.js';
import { makeUpstreamCerts, type UpstreamCerts } from './upstream-tls-certs.js';
import { messages, openClient, refusal, startWsUpstream, type WsUpstream } from './websocket-helpers.js';

describe('WebSocket proxying over TLS', () => {
  let pki: TestPki; let certs: UpstreamCerts;
  let secure: WsUpstream; let untrusted: WsUpstream;
  let gw: GatewayWorker;
  let base = '';
  let ca: Buffer;

  before(async () => {
    pki = standardPki();
    certs = makeUpstreamCerts();
    ca = readFileSync(pki.file('ca.crt'));
    secure = await startWsUpstream({ tls: { cert: readFileSync(certs.serverCert), key: readFileSync(certs.serverKey) } });
    untrusted = await startWsUpstream({ tls: { cert: readFileSync(certs.wrongServerCert), key: readFileSync(certs.wrongServerKey) } });
    gw = await startWorker(configFromYaml(`
server:
  tls:
    cert: ${pki.file('server.crt')}
    key: ${pki.file('server.key')}
    sni: [ { host: api.example.com, cert: ${pki.file('sni.crt')}, key: ${pki.file('sni.key')} } ]
    clientCa: ${pki.file('ca.crt')}
    clientAuth: optional
upstreams:
  secure: { targets: [ { url: "https://localhost:${secure.port}" } ], tls: { ca: ${certs.ca} } }
  untrusted: { targets: [ { url: "https://localhost:${untrusted.port}" } ], tls: { ca: ${certs.ca} } }
policies:
  partners: { client-cert: { subjects: [ "CN=partner-*" ] } }
routes:
  - { name: api, match: { host: api.example.com, path: /socket }, upstream: secure, rewrite: /api-host, websocket: true }
  - { name: socket, match: { path: /socket }, upstream: secure, websocket: true }
  - { name: untrusted, match: { path: /untrusted }, upstream: untrusted, websocket: true }
  - { name: mtls, match: { path: /mtls }, upstream: secure, websocket: true, policies: [ partners ] }
`));
    base = `wss://127.0.0.1:${gw.port}`;
  });

  after(async () => {
    await gw.drain(500);
    await Promise.all([secure.close(), untrusted.close()]);
    pki.cleanup();
    certs.remove();
  });

  test('wss:// client through the TLS listener to a wss:// upstream whose certificate the upstream tls.ca verifies', async () => {
    const { ws } = await openClient(`${base}/socket`, [], { ca, servername: 'localhost' });
    const conn = secure.latest();
    assert.equal(conn.headers['x-forwarded-proto'], 'https');
    assert.equal(conn.url, '/socket');
    const big = Buffer.alloc(300 * 1024, 9);
    const echoes = messages(ws, 2);
    ws.send('over tls');
    ws.send(big);
    const [a, b] = await echoes;
    assert.equal(a.data.toString(), 'over tls');
    assert.ok(b.data.equals(big));
    ws.close(4000, 'tls bye');
    assert.deepEqual(await conn.closed, { code: 4000, reason: 'tls bye' });
  });

  test('an SNI host has the WebSocket handlers too', async () => {
    const { ws } = await openClient(`${base}/socket`, [], {
      ca, servername: 'api.example.com', headers: { host: 'api.example.com' },
    });
    assert.equal(secure.latest().url, '/api-host', 'routed by the api.example.com route');
    ws.close();
  });

  test('an upstream certificate the upstream tls.ca does not trust: 502 upstream_tls', async () => {
    const r = await refusal(`${base}/untrusted`, [], { ca, servername: 'localhost' });
    assert.equal(r.status, 502);
    assert.equal(r.json.code, 'upstream_tls');
    assert.match(String(r.json.detail), /certificate/);
  });

  test('client certificates on the handshake: none is 401, a matching one upgrades', async () => {
    const none = await refusal(`${base}/mtls`, [], { ca, servername: 'localhost' });
    assert.equal(none.status, 401);
    assert.equal(none.json.code, 'client_cert_required');
    const { ws } = await openClient(`${base}/mtls`, [], {
      ca, servername: 'localhost', cert: readFileSync(pki.file('client.crt')), key: readFileSync(pki.file('client.key')),
    });
    ws.send('hello partner');
    assert.equal((await messages(ws, 1))[0].data.toString(), 'hello partner');
    ws.close();
  });
});
