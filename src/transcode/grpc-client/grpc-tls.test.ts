// GrpcChannel over TLS against real servers with openssl-made certificates:
// grpc-js with ServerCredentials.createSsl (with and without client
// certificates), a node:http2 secure server that reports the SNI it got, a
// TLS server that does not speak h2, one that hangs up during the handshake
// and one that never answers the ClientHello.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import tls, { createSecureContext, type SecureContext } from 'node:tls';
import grpc from '@grpc/grpc-js';
import { UpstreamTlsError, tlsFailureReason } from '../../errors/tls-failure.js';
import { makeUpstreamCerts, type UpstreamCerts } from '../../../test/e2e/upstream-tls-certs.js';
import { GrpcChannel, type GrpcChannelOptions } from './grpc-channel.js';
import { SERVICE, prefix, startGrpcServer, type TestGrpcServer } from './grpc-test-server.js';
import type { GrpcResult } from './grpc-wire.js';
import { GrpcCode } from './status-map.js';

const ECHO = `/${SERVICE}/Echo`;

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

async function echo(target: string, options: GrpcChannelOptions, text = 'hi'): Promise<GrpcResult> {
  const channel = new GrpcChannel(target, { connectTimeoutMs: 10_000, ...options });
  try {
    return await channel.unary(ECHO, Buffer.from(text), { deadlineMs: 15_000 });
  } finally {
    channel.destroy();
  }
}

/** Asserts a call that failed on TLS before reaching the server, with a reason matching `reason`. */
function assertTlsFailure(r: GrpcResult, reason: RegExp): void {
  assert.equal(r.status, GrpcCode.UNAVAILABLE, r.message);
  assert.equal(r.sent, false);
  assert.ok(r.cause instanceof UpstreamTlsError, `cause: ${String(r.cause)}`);
  assert.match(tlsFailureReason(r.cause) ?? '', reason);
}

describe('GrpcChannel over TLS', () => {
  let certs: UpstreamCerts;
  let server: TestGrpcServer;
  let mtls: TestGrpcServer;
  let ca: SecureContext;
  let wrongCa: SecureContext;
  let withClientCert: SecureContext;

  before(async () => {
    certs = makeUpstreamCerts();
    const pair = { private_key: readFileSync(certs.serverKey), cert_chain: readFileSync(certs.serverCert) };
    server = await startGrpcServer(0, {}, grpc.ServerCredentials.createSsl(null, [pair]));
    mtls = await startGrpcServer(0, {}, grpc.ServerCredentials.createSsl(readFileSync(certs.ca), [pair], true));
    ca = createSecureContext({ ca: readFileSync(certs.ca) });
    wrongCa = createSecureContext({ ca: readFileSync(certs.wrongCa) });
    withClientCert = createSecureContext({ ca: readFileSync(certs.ca), cert: readFileSync(certs.clientCert), key: readFileSync(certs.clientKey) });
  });

  after(() => {
    server?.stop();
    mtls?.stop();
    certs?.remove();
  });

  test('https:// target verified with the given CA (IP and host name targets, serverName override)', async () => {
    for (const [target, options] of [
      [`https://127.0.0.1:${server.port}`, { secureContext: ca }],
      [`https://localhost:${server.port}`, { secureContext: ca }],
      [`https://127.0.0.1:${server.port}`, { secureContext: ca, servername: 'localhost' }],
    ] as const) {
      const r = await echo(target, { tls: options });
      assert.equal(r.status, GrpcCode.OK, `${target}: ${r.message}`);
      assert.equal(Buffer.from(r.response!).toString(), 'hi');
      assert.equal(r.cause, null);
    }
  });

  test('a certificate that does not verify fails fast as a TLS failure: wrong CA, default store, wrong name', async () => {
    assertTlsFailure(await echo(`https://127.0.0.1:${server.port}`, { tls: { secureContext: wrongCa } }), /^certificate verify failed: /);
    assertTlsFailure(await echo(`https://127.0.0.1:${server.port}`, {}), /^certificate verify failed: /);
    assertTlsFailure(await echo(`https://127.0.0.1:${server.port}`, { tls: { secureContext: ca, servername: 'wrong.example' } }),
      /^certificate verify failed: the certificate is not valid for the server name$/);
  });

  test('mTLS: the client certificate is presented; without one the server\'s alert ends the call (no hang)', async () => {
    const ok = await echo(`https://127.0.0.1:${mtls.port}`, { tls: { secureContext: withClientCert } });
    assert.equal(ok.status, GrpcCode.OK, ok.message);
    const refused = await echo(`https://127.0.0.1:${mtls.port}`, { tls: { secureContext: ca } });
    assertTlsFailure(refused, /certificate required \(the upstream requires a client certificate\)$/);
  });

  test('during the backoff after a TLS failure, calls fail at once with the same cause', async () => {
    const channel = new GrpcChannel(`https://127.0.0.1:${server.port}`, { tls: { secureContext: wrongCa }, backoffInitialMs: 60_000 });
    try {
      const first = await channel.unary(ECHO, Buffer.from('a'), { deadlineMs: 15_000 });
      assertTlsFailure(first, /^certificate verify failed: /);
      const second = await channel.unary(ECHO, Buffer.from('b'), { deadlineMs: 15_000 });
      assertTlsFailure(second, /^certificate verify failed: /);
      assert.match(second.message, /next connection attempt in/);
    } finally {
      channel.destroy();
    }
  });

  test('SNI: the target host name, none for an IP target, serverName when set; the request carries :scheme https', async () => {
    const seen: Array<{ sni: string | false | null; scheme: string | undefined }> = [];
    const h2 = http2.createSecureServer({ key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) });
    h2.on('stream', (stream, headers) => {
      seen.push({ sni: (stream.session!.socket as tls.TLSSocket).servername, scheme: headers[':scheme'] });
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.concat([prefix(0, 2), Buffer.from('ok')]));
    });
    const port = await listen(h2);
    try {
      for (const [target, servername] of [[`https://localhost:${port}`, undefined], [`https://127.0.0.1:${port}`, undefined], [`https://127.0.0.1:${port}`, 'localhost']]) {
        const r = await echo(target!, { tls: { secureContext: ca, servername } });
        assert.equal(r.status, GrpcCode.OK, r.message);
      }
      assert.deepStrictEqual(seen, [{ sni: 'localhost', scheme: 'https' }, { sni: false, scheme: 'https' }, { sni: 'localhost', scheme: 'https' }]);
    } finally {
      h2.close();
    }
  });

  test('a TLS server that does not select h2 (no ALPN) is a TLS failure, not a protocol error', async () => {
    const plainTls = tls.createServer({ key: readFileSync(certs.serverKey), cert: readFileSync(certs.serverCert) }, (sock) => {
      sock.on('error', () => {});
      sock.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    const port = await listen(plainTls);
    try {
      assertTlsFailure(await echo(`https://127.0.0.1:${port}`, { tls: { secureContext: ca } }), /did not select HTTP\/2 \(ALPN h2\)/);
    } finally {
      plainTls.close();
    }
  });

  test('a server that hangs up during the handshake is a TLS failure; one that never answers it is a connect timeout', async () => {
    const hangUp = net.createServer((sock) => { sock.once('data', () => sock.destroy()); });
    const silentSockets = new Set<net.Socket>();
    const silent = net.createServer((sock) => { silentSockets.add(sock); });
    const [hangUpPort, silentPort] = await Promise.all([listen(hangUp), listen(silent)]);
    try {
      assertTlsFailure(await echo(`https://127.0.0.1:${hangUpPort}`, { tls: { secureContext: ca } }),
        /^the upstream closed the connection during the TLS handshake$/);
      const timedOut = await echo(`https://127.0.0.1:${silentPort}`, { tls: { secureContext: ca }, connectTimeoutMs: 300 });
      assert.equal(timedOut.status, GrpcCode.UNAVAILABLE);
      assert.match(timedOut.message, /no HTTP\/2 SETTINGS within 300 ms/);
      assert.equal(tlsFailureReason(timedOut.cause), null, 'a stalled handshake is a timeout, not a TLS failure');
    } finally {
      for (const s of silentSockets) s.destroy();
      hangUp.close();
      silent.close();
    }
  });

  test('an h2c channel is unchanged: a cleartext server over TLS fails the handshake, plain h2c works', async () => {
    const plain = await startGrpcServer();
    try {
      assertTlsFailure(await echo(`https://127.0.0.1:${plain.port}`, { tls: { secureContext: ca } }), /the target may not speak TLS/);
      const r = await echo(`h2c://127.0.0.1:${plain.port}`, { tls: { secureContext: ca } });
      assert.equal(r.status, GrpcCode.OK, r.message);
      assert.equal(r.cause, null);
    } finally {
      plain.stop();
    }
  });
});
