import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server, type ServerOptions } from 'node:https';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { configFromYaml, nodeRequest, startGateway, type TestGateway } from './helpers.js';
import { makeUpstreamCerts, type UpstreamCerts } from './upstream-tls-certs.js';

/** A real https upstream: answers JSON naming itself, the SNI it got, the client certificate's CN and the Host header. */
interface TlsUpstream {
  name: string;
  port: number;
  server: Server;
  /** TLS connections accepted. */
  connections: number;
  /** Paths requested, in order. */
  paths: string[];
  /** SNI of the connections that sent /health. */
  healthSni: Array<string | false | null>;
  close(): Promise<void>;
}

async function startTlsUpstream(name: string, options: ServerOptions): Promise<TlsUpstream> {
  const up: TlsUpstream = {
    name, port: 0, connections: 0, paths: [], healthSni: [], server: null as unknown as Server,
    close: () => new Promise<void>((r) => { up.server.closeAllConnections(); up.server.close(() => r()); }),
  };
  up.server = createServer(options, (req, res) => {
    const socket = req.socket as TLSSocket;
    up.paths.push(req.url ?? '');
    if (req.url === '/health') up.healthSni.push(socket.servername);
    const peer = socket.getPeerCertificate();
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({
      server: name, sni: socket.servername, host: req.headers.host,
      clientCert: peer !== null && typeof peer === 'object' && peer.subject !== undefined ? peer.subject.CN : null,
    }));
  });
  up.server.on('secureConnection', () => { up.connections++; });
  await new Promise<void>((r) => up.server.listen(0, '127.0.0.1', r));
  up.port = (up.server.address() as AddressInfo).port;
  return up;
}

interface Answer { status: number; type: string; body: Record<string, unknown>; ms: number }

async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const start = performance.now();
  const res = await nodeRequest(port, path, headers);
  return { status: res.status, type: String(res.headers['content-type']), body: JSON.parse(res.body) as Record<string, unknown>, ms: performance.now() - start };
}

/** Asserts a 502 upstream_tls problem whose detail matches `detail`, answered long before any timeout. */
function assertTlsProblem(res: Answer, detail: RegExp): void {
  assert.equal(res.status, 502, JSON.stringify(res.body));
  assert.equal(res.type, 'application/problem+json');
  assert.equal(res.body.code, 'upstream_tls');
  assert.match(String(res.body.detail), detail);
  assert.doesNotMatch(String(res.body.detail), /\/|\.c:|openssl|routines/i, 'no library message or path reaches the client');
  assert.ok(res.ms < 5000, `answered in ${Math.round(res.ms)} ms, not at a timeout`);
}

describe('TLS to upstreams (real https servers, openssl-made certificates)', () => {
  let certs: UpstreamCerts;
  let plain: TlsUpstream; let mtls: TlsUpstream; let mtls12: TlsUpstream; let mtls13: TlsUpstream; let wrong: TlsUpstream;
  let gw: TestGateway;
  let silent: TcpServer; const silentSockets = new Set<Socket>();

  before(async () => {
    certs = makeUpstreamCerts();
    // Accepts TCP and never answers the ClientHello.
    silent = createTcpServer((sock) => { silentSockets.add(sock); sock.on('close', () => silentSockets.delete(sock)); });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const server = { key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) };
    const requireClient = { ...server, ca: readFileSync(certs.ca), requestCert: true, rejectUnauthorized: true };
    plain = await startTlsUpstream('plain', server);
    mtls = await startTlsUpstream('mtls', requireClient);
    mtls12 = await startTlsUpstream('mtls12', { ...requireClient, maxVersion: 'TLSv1.2' });
    mtls13 = await startTlsUpstream('mtls13', { ...requireClient, minVersion: 'TLSv1.3' });
    wrong = await startTlsUpstream('wrong', { key: readFileSync(certs.wrongServerKey), cert: readFileSync(certs.wrongServerCert) });
    process.env.TURNPIKE_TEST_UPSTREAM_KEY_PASS = 's3cret';
    const route = (name: string, upstream: string, extra = ''): string =>
      `  - { match: { path: /${name} }, upstream: ${upstream}, timeout: { connect: 10s, headers: 10s, request: 20s }${extra} }\n`;
    gw = await startGateway(`
upstreams:
  good-ca: { targets: [ { url: "https://localhost:${plain.port}" } ], tls: { ca: "${certs.ca}" } }
  good-ip: { targets: [ { url: "https://127.0.0.1:${plain.port}" } ], tls: { ca: "${certs.ca}" } }
  sni-override: { targets: [ { url: "https://127.0.0.1:${plain.port}" } ], tls: { ca: "${certs.ca}", serverName: localhost } }
  wrong-ca: { targets: [ { url: "https://localhost:${plain.port}" } ], tls: { ca: "${certs.wrongCa}" } }
  default-store: { targets: [ { url: "https://localhost:${plain.port}" } ] }
  wrong-name: { targets: [ { url: "https://127.0.0.1:${plain.port}" } ], tls: { ca: "${certs.ca}", serverName: wrong.example } }
  mtls:
    targets: [ { url: "https://127.0.0.1:${mtls.port}" } ]
    tls: { ca: "${certs.ca}", cert: "${certs.clientCert}", key: "${certs.clientKey}" }
  mtls-encrypted:
    targets: [ { url: "https://127.0.0.1:${mtls.port}" } ]
    tls: { ca: "${certs.ca}", cert: "${certs.clientCert}", key: "${certs.clientKeyEncrypted}", passphrase: "env:TURNPIKE_TEST_UPSTREAM_KEY_PASS" }
  mtls12-no-cert: { targets: [ { url: "https://127.0.0.1:${mtls12.port}" } ], tls: { ca: "${certs.ca}" } }
  mtls13-no-cert: { targets: [ { url: "https://127.0.0.1:${mtls13.port}" } ], tls: { ca: "${certs.ca}" } }
  ejecting:
    targets: [ { url: "https://127.0.0.1:${plain.port}" } ]
    tls: { ca: "${certs.wrongCa}" }
    passiveHealth: { consecutiveFailures: 2, ejectTime: 1m }
    panicThreshold: 0%
  half-bad:
    targets: [ { url: "https://127.0.0.1:${wrong.port}" }, { url: "https://127.0.0.1:${plain.port}" } ]
    tls: { ca: "${certs.ca}" }
    passiveHealth: { consecutiveFailures: 0 }
  silent: { targets: [ { url: "https://127.0.0.1:${(silent.address() as AddressInfo).port}" } ], tls: { ca: "${certs.ca}" } }
routes:
${route('good-ca', 'good-ca')}${route('good-ip', 'good-ip')}${route('sni-override', 'sni-override')}${route('preserve', 'good-ca', ', preserveHost: true')}\
${route('wrong-ca', 'wrong-ca')}${route('default-store', 'default-store')}${route('wrong-name', 'wrong-name')}${route('mtls', 'mtls')}\
${route('mtls-encrypted', 'mtls-encrypted')}${route('mtls12-no-cert', 'mtls12-no-cert')}${route('mtls13-no-cert', 'mtls13-no-cert')}\
${route('ejecting', 'ejecting')}${route('half-bad', 'half-bad')}\
  - { match: { path: /silent }, upstream: silent, timeout: { connect: 300ms, headers: 10s, request: 20s } }
`);
  });

  after(async () => {
    await gw?.close();
    await Promise.all([plain, mtls, mtls12, mtls13, wrong].map((u) => u?.close()));
    for (const sock of silentSockets) sock.destroy();
    await new Promise<void>((r) => (silent ? silent.close(() => r()) : r()));
    delete process.env.TURNPIKE_TEST_UPSTREAM_KEY_PASS;
    certs?.remove();
  });

  test('https target verified with the configured CA: 200, SNI is the target host name', async () => {
    const res = await get(gw.port, '/good-ca');
    assert.equal(res.status, 200);
    assert.equal(res.body.server, 'plain');
    assert.equal(res.body.sni, 'localhost');
  });

  test('an IP target sends no SNI and is verified against the certificate\'s IP SAN', async () => {
    const res = await get(gw.port, '/good-ip');
    assert.equal(res.status, 200);
    assert.equal(res.body.sni, false);
  });

  test('serverName sets the SNI (and the name verified) for an IP target', async () => {
    const res = await get(gw.port, '/sni-override');
    assert.equal(res.status, 200);
    assert.equal(res.body.sni, 'localhost');
  });

  test('preserveHost: the client Host goes upstream, but SNI stays the target\'s and the connection is reused', async () => {
    const before = plain.connections;
    for (const host of ['a.example.com', 'b.example.com', 'c.example.com']) {
      const res = await get(gw.port, '/preserve', { host });
      assert.equal(res.status, 200);
      assert.equal(res.body.host, host);
      assert.equal(res.body.sni, 'localhost');
    }
    assert.ok(plain.connections - before <= 1, `${plain.connections - before} new TLS connections for three requests`);
  });

  test('a certificate from another CA: 502 upstream_tls at once, not a timeout', async () => {
    assertTlsProblem(await get(gw.port, '/wrong-ca'), /^certificate verify failed: unable to verify the first certificate$/);
  });

  test('NODE_TLS_REJECT_UNAUTHORIZED=0 does not turn verification off', async () => {
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    try {
      assertTlsProblem(await get(gw.port, '/wrong-ca'), /^certificate verify failed: /);
    } finally {
      delete process.env.NODE_TLS_REJECT_UNAUTHORIZED;
    }
  });

  test('a target that accepts TCP but never completes the handshake: 504 at the connect timeout', async () => {
    const res = await get(gw.port, '/silent');
    assert.equal(res.status, 504, JSON.stringify(res.body));
    assert.equal(res.body.code, 'upstream_timeout');
  });

  test('without ca, Node\'s default trust store applies (the test CA is not in it)', async () => {
    assertTlsProblem(await get(gw.port, '/default-store'), /^certificate verify failed: /);
  });

  test('a serverName the certificate does not cover: 502 upstream_tls', async () => {
    assertTlsProblem(await get(gw.port, '/wrong-name'), /^certificate verify failed: the certificate is not valid for the server name$/);
  });

  test('mTLS: the configured client certificate is presented and the upstream sees its subject', async () => {
    const res = await get(gw.port, '/mtls');
    assert.equal(res.status, 200);
    assert.equal(res.body.server, 'mtls');
    assert.equal(res.body.clientCert, 'turnpike-gateway');
  });

  test('mTLS with an encrypted key and passphrase: env:NAME', async () => {
    const res = await get(gw.port, '/mtls-encrypted');
    assert.equal(res.status, 200);
    assert.equal(res.body.clientCert, 'turnpike-gateway');
  });

  test('no client certificate for a TLS 1.2 upstream that requires one: 502 upstream_tls (handshake alert)', async () => {
    assertTlsProblem(await get(gw.port, '/mtls12-no-cert'), /^handshake failed: /);
  });

  test('no client certificate for a TLS 1.3 upstream that requires one: 502 upstream_tls, not "other side closed"', async () => {
    // TLS 1.3 servers reject the client certificate after the client's side
    // of the handshake is done, with an alert on the established connection.
    assertTlsProblem(await get(gw.port, '/mtls13-no-cert'),
      /^handshake failed: tlsv13 alert certificate required \(the upstream requires a client certificate\)$/);
  });

  test('TLS failures count as connect failures for passive health: the target is ejected', async () => {
    assertTlsProblem(await get(gw.port, '/ejecting'), /^certificate verify failed: /);
    assertTlsProblem(await get(gw.port, '/ejecting'), /^certificate verify failed: /);
    const res = await get(gw.port, '/ejecting');
    assert.equal(res.status, 503);
    assert.equal(res.body.code, 'upstream_unavailable');
  });

  test('a TLS failure is retried once on another target, like a refused connection', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await get(gw.port, '/half-bad');
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.server, 'plain');
    }
    assert.equal(wrong.paths.length, 0, 'no request reached the upstream whose certificate failed');
  });
});

describe('active health checks over TLS', () => {
  let certs: UpstreamCerts; let good: TlsUpstream; let bad: TlsUpstream;

  before(async () => {
    certs = makeUpstreamCerts();
    // The good target requires the gateway's client certificate: its checks pass only with the upstream's TLS settings.
    good = await startTlsUpstream('good', {
      key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert), ca: readFileSync(certs.ca), requestCert: true, rejectUnauthorized: true,
    });
    bad = await startTlsUpstream('bad', { key: readFileSync(certs.wrongServerKey), cert: readFileSync(certs.wrongServerCert) });
  });

  after(async () => {
    await Promise.all([good?.close(), bad?.close()]);
    certs?.remove();
  });

  test('use the upstream\'s ca, client certificate and serverName: a wrong-CA target goes unhealthy, the good one stays healthy', async () => {
    const events: Array<{ target: string; available: boolean; reason: string }> = [];
    let sawBadDown: () => void = () => undefined;
    const badDown = new Promise<void>((r) => { sawBadDown = r; });
    const badUrl = `https://127.0.0.1:${bad.port}`;
    const worker = await startWorker(configFromYaml(`
upstreams:
  checked:
    targets: [ { url: "https://127.0.0.1:${good.port}" }, { url: "${badUrl}" } ]
    tls: { ca: "${certs.ca}", cert: "${certs.clientCert}", key: "${certs.clientKey}", serverName: localhost }
    healthCheck: { path: /health, interval: 100ms, timeout: 2s, unhealthyThreshold: 1, healthyThreshold: 1 }
    passiveHealth: { consecutiveFailures: 0 }
routes:
  - { match: { path: /* }, upstream: checked }
`), {
      onTargetHealth: (_upstream, target, available, reason) => {
        events.push({ target, available, reason });
        if (target === badUrl && !available) sawBadDown();
      },
    });
    try {
      await badDown;
      const down = events.find((e) => e.target === badUrl)!;
      assert.match(down.reason, /^tls: certificate verify failed: unable to verify the first certificate/);
      // Let the good target be probed a few times too.
      while (good.healthSni.length < 3) await new Promise((r) => setTimeout(r, 50));
      assert.deepStrictEqual(events.filter((e) => e.target !== badUrl), [], 'the good target never went unhealthy');
      assert.ok(good.healthSni.every((sni) => sni === 'localhost'), `SNI of the checks: ${good.healthSni.join(', ')}`);
      assert.equal(bad.paths.length, 0, 'no check got through to the wrong-CA target');
      for (let i = 0; i < 3; i++) {
        const res = await get(worker.port, '/x');
        assert.equal(res.status, 200);
        assert.equal(res.body.server, 'good');
        assert.equal(res.body.clientCert, 'turnpike-gateway');
      }
    } finally {
      await worker.drain(1000);
    }
  });
});
