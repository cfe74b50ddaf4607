// Client certificates end to end: server.tls.clientCa with clientAuth
// require and optional, and the client-cert policy, against a real gateway
// worker, real upstream and certificates made by the openssl CLI.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { standardPki, type TestPki } from '../../src/tls/testing/test-pki.js';
import { configFromYaml, startUpstream, type TestUpstream } from './helpers.js';
import { tlsRequest, upstreamHeaders, type TlsReply } from './tls-helpers.js';

function tlsYaml(pki: TestPki, up: TestUpstream, clientAuth: string): string {
  return `
server:
  tls:
    cert: ${pki.file('server.crt')}
    key: ${pki.file('server.key')}
    sni: [ { host: api.example.com, cert: ${pki.file('sni.crt')}, key: ${pki.file('sni.key')} } ]
    clientCa: ${pki.file('ca.crt')}
    clientAuth: ${clientAuth}
upstreams: { u: { targets: [ { url: "${up.url}" } ] } }
policies:
  partners: { client-cert: { subjects: [ "CN=partner-*" ] } }
routes:
  - { name: partners, match: { path: /partners/* }, upstream: u, policies: [ partners ] }
  - { name: spiffe, match: { path: /spiffe/* }, upstream: u, policies: [ { client-cert: { sans: [ "spiffe://example.org/ns/*" ] } } ] }
  - { name: dns, match: { path: /dns/* }, upstream: u, policies: [ { client-cert: { sans: [ "*.other.test" ] } } ] }
  - { name: any-cert, match: { path: /any-cert/* }, upstream: u, policies: [ { client-cert: {} } ] }
  - { name: open, match: { path: /open/* }, upstream: u }
`;
}

function fingerprintOf(pki: TestPki, name: string): string {
  return new X509Certificate(readFileSync(pki.file(`${name}.crt`))).fingerprint256.replaceAll(':', '').toLowerCase();
}

function assertProblem(r: TlsReply, status: number, code: string): void {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.json?.code, code);
  assert.equal(r.json?.status, status);
}

/** The handshake of a client with a certificate from an unrelated CA fails (uWS verifies a presented certificate). */
async function assertRefused(pki: TestPki, port: number, servername = 'localhost'): Promise<void> {
  await assert.rejects(tlsRequest(pki, port, '/open/x', { clientCert: 'wrong-ca', servername }), (err: NodeJS.ErrnoException) => {
    assert.match(String(err.code), /UNKNOWN_CA|ECONNRESET|CERTIFICATE/, String(err.code));
    return true;
  });
}

describe('server.tls.clientAuth: require', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let gw: GatewayWorker;
  before(async () => {
    pki = standardPki();
    up = await startUpstream('u');
    gw = await startWorker(configFromYaml(tlsYaml(pki, up, 'require')));
  });
  after(async () => {
    await gw?.drain(500);
    await up?.close();
    pki?.cleanup();
  });

  test('no certificate: every request gets 401 client_cert_required (problem+json) before routing; nothing goes upstream', async () => {
    const before = up.seen.length;
    assertProblem(await tlsRequest(pki, gw.port, '/open/x'), 401, 'client_cert_required');
    assertProblem(await tlsRequest(pki, gw.port, '/no/such/route'), 401, 'client_cert_required');
    assertProblem(await tlsRequest(pki, gw.port, '/open/x', { servername: 'api.example.com' }), 401, 'client_cert_required');
    assert.equal(up.seen.length, before);
  });

  test('a certificate from another CA: the handshake is refused (default and SNI host)', async () => {
    await assertRefused(pki, gw.port);
    await assertRefused(pki, gw.port, 'api.example.com');
  });

  test('a verified certificate: 200, on the default certificate and on an SNI host, also on one keep-alive connection', async () => {
    const r = await tlsRequest(pki, gw.port, '/open/x', { clientCert: 'client' });
    assert.equal(r.status, 200, r.body);
    assert.equal(upstreamHeaders(r)['x-client-cert-subject'], undefined, 'only the client-cert policy forwards certificate headers');
    const sni = await tlsRequest(pki, gw.port, '/open/x', { clientCert: 'client', servername: 'api.example.com' });
    assert.equal(sni.status, 200, sni.body);
    assert.equal(sni.peerCn, 'api.example.com');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      for (let i = 0; i < 4; i++) {
        const k = await tlsRequest(pki, gw.port, `/any-cert/${i}`, { clientCert: 'client', agent });
        assert.equal(k.status, 200, k.body);
        assert.equal(upstreamHeaders(k)['x-client-cert-fingerprint'], fingerprintOf(pki, 'client'));
      }
    } finally {
      agent.destroy();
    }
  });
});

describe('server.tls.clientAuth: optional, with the client-cert policy', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let gw: GatewayWorker;
  before(async () => {
    pki = standardPki();
    up = await startUpstream('u');
    gw = await startWorker(configFromYaml(tlsYaml(pki, up, 'optional')));
  });
  after(async () => {
    await gw?.drain(500);
    await up?.close();
    pki?.cleanup();
  });

  test('routes without the policy take requests with and without a certificate; a wrong-CA one is still refused', async () => {
    assert.equal((await tlsRequest(pki, gw.port, '/open/x')).status, 200);
    assert.equal((await tlsRequest(pki, gw.port, '/open/x', { clientCert: 'client' })).status, 200);
    await assertRefused(pki, gw.port);
  });

  test('client-cert: no certificate → 401 client_cert_required; not matching → 403 client_cert_forbidden', async () => {
    for (const path of ['/partners/x', '/spiffe/x', '/dns/x', '/any-cert/x']) {
      assertProblem(await tlsRequest(pki, gw.port, path), 401, 'client_cert_required');
    }
    assertProblem(await tlsRequest(pki, gw.port, '/partners/x', { clientCert: 'client-b' }), 403, 'client_cert_forbidden');
    assertProblem(await tlsRequest(pki, gw.port, '/spiffe/x', { clientCert: 'client-b' }), 403, 'client_cert_forbidden');
    assertProblem(await tlsRequest(pki, gw.port, '/dns/x', { clientCert: 'client' }), 403, 'client_cert_forbidden');
  });

  test('client-cert: a matching certificate becomes the consumer; its subject and fingerprint reach the upstream, spoofed ones do not', async () => {
    const spoof = {
      'x-client-cert-subject': 'CN=admin', 'x-client-cert-fingerprint': '00', 'x-consumer-id': 'admin', 'x-consumer-username': 'admin',
    };
    const fp = fingerprintOf(pki, 'client');
    for (const path of ['/partners/x', '/spiffe/x', '/any-cert/x']) {
      const r = await tlsRequest(pki, gw.port, path, { clientCert: 'client', headers: spoof });
      assert.equal(r.status, 200, r.body);
      const h = upstreamHeaders(r);
      assert.equal(h['x-client-cert-subject'], 'CN=partner-1,O=Partners\\, Inc.', path);
      assert.equal(h['x-client-cert-fingerprint'], fp);
      // The id is the certificate's SAN URI (here the one the sans glob matched), the username its CN.
      assert.equal(h['x-consumer-id'], 'spiffe://example.org/ns/a');
      assert.equal(h['x-consumer-username'], 'partner-1');
      assert.equal(h['x-forwarded-proto'], 'https');
    }
    const dns = await tlsRequest(pki, gw.port, '/dns/x', { clientCert: 'client-b', headers: spoof });
    assert.equal(dns.status, 200, dns.body);
    const h = upstreamHeaders(dns);
    assert.equal(h['x-client-cert-subject'], 'CN=intruder-9');
    assert.equal(h['x-client-cert-fingerprint'], fingerprintOf(pki, 'client-b'));
    assert.equal(h['x-consumer-id'], 'spiffe://other.test/x', 'matched on a DNS name: the id is still the first SAN URI');
    assert.equal(h['x-consumer-username'], 'intruder-9');
  });
});

describe('server.tls.clientAuth: none with a clientCa', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let gw: GatewayWorker;
  before(async () => {
    pki = standardPki();
    up = await startUpstream('u');
    gw = await startWorker(configFromYaml(`
server:
  tls: { cert: ${pki.file('server.crt')}, key: ${pki.file('server.key')}, clientCa: ${pki.file('ca.crt')}, clientAuth: none }
upstreams: { u: { targets: [ { url: "${up.url}" } ] } }
routes: [ { name: open, match: { path: /open/* }, upstream: u } ]
`));
  });
  after(async () => {
    await gw?.drain(500);
    await up?.close();
    pki?.cleanup();
  });

  test('no certificate is requested: a client holding one from another CA connects (it never sends it)', async () => {
    const r = await tlsRequest(pki, gw.port, '/open/x', { clientCert: 'wrong-ca' });
    assert.equal(r.status, 200, r.body);
    assert.equal((await tlsRequest(pki, gw.port, '/open/x')).status, 200);
  });
});
