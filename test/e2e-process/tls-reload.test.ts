// Certificate rotation with the real CLI: replace the certificate files,
// SIGHUP, and new connections get the new certificate (the new generation's
// workers read the files when they start) while a request in flight on a
// connection to the old generation completes on it.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { Agent } from 'node:https';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { standardPki, type TestPki } from '../../src/tls/testing/test-pki.js';
import { tlsRequest } from '../e2e/tls-helpers.js';
import { alive, freePort, readyz, startGateway, waitUntil, type Gateway } from './fixtures/gateway-process.js';

let pki: TestPki | null = null;
let gw: Gateway | null = null;
let upstream: Server | null = null;
const held: ServerResponse[] = [];

after(async () => {
  for (const res of held) res.end('released');
  gw?.cleanup();
  await new Promise<void>((r) => (upstream === null ? r() : upstream.close(() => r())));
  upstream?.closeAllConnections();
  pki?.cleanup();
});

function fingerprint(file: string): string {
  return new X509Certificate(readFileSync(file)).fingerprint256;
}

test('SIGHUP after replacing the certificate files: new connections see the new certificate, an in-flight request on an old connection completes', async () => {
  const certs = standardPki();
  pki = certs;
  certs.issue('server-next', { subject: '/CN=localhost', san: 'DNS:localhost,IP:127.0.0.1' });
  const live = certs.file('live');
  mkdirSync(live);
  copyFileSync(certs.file('server.crt'), `${live}/server.crt`);
  copyFileSync(certs.file('server.key'), `${live}/server.key`);
  const oldFp = fingerprint(certs.file('server.crt'));
  const newFp = fingerprint(certs.file('server-next.crt'));
  assert.notEqual(oldFp, newFp);

  // The upstream holds /slow until the test lets it go.
  let slowArrived: () => void = () => {};
  const arrived = new Promise<void>((r) => { slowArrived = r; });
  upstream = createServer((req, res) => {
    if (req.url === '/slow') {
      held.push(res);
      slowArrived();
      return;
    }
    res.end('fast');
  });
  await new Promise<void>((r) => upstream!.listen(0, '127.0.0.1', r));
  const upstreamPort = (upstream.address() as AddressInfo).port;

  const port = await freePort();
  const adminPort = await freePort();
  gw = await startGateway([
    `server: { host: 127.0.0.1, port: ${port}, workers: 1, gracePeriod: 20s, logLevel: info,`,
    `  tls: { cert: "${live}/server.crt", key: "${live}/server.key" } }`,
    `admin: { host: 127.0.0.1, port: ${adminPort} }`,
    `upstreams: { u: { targets: [ { url: "http://127.0.0.1:${upstreamPort}" } ] } }`,
    'routes: [ { name: all, match: { path: "/*" }, upstream: u, timeout: 30s } ]',
    '',
  ].join('\n'));
  const ready = await gw.waitForLine((l) => l.msg === 'ready');
  const gen1 = (await readyz(gw)).body.workers;
  assert.equal(gen1.length, 1);
  const oldWorker = gen1[0].pid;

  // One keep-alive connection to generation 1: a quick request, then one left in flight.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const first = await tlsRequest(certs, port, '/fast', { agent });
  assert.equal(first.status, 200);
  assert.equal(first.peerFingerprint, oldFp);
  const inFlight = tlsRequest(certs, port, '/slow', { agent });
  await arrived;

  copyFileSync(certs.file('server-next.crt'), `${live}/server.crt`);
  copyFileSync(certs.file('server-next.key'), `${live}/server.key`);
  process.kill(gw.pid, 'SIGHUP');
  await gw.waitForLine((l) => l.msg === 'reloaded' && l.generation === 2, 15_000, 'the "reloaded" line');

  // The old listener closes when its drain starts; from then on every new connection is generation 2's.
  let fresh = await tlsRequest(certs, port, '/fast');
  await waitUntil('a new connection gets the new certificate', async () => {
    fresh = await tlsRequest(certs, port, '/fast');
    return fresh.peerFingerprint === newFp;
  }, 10_000);
  assert.equal(fresh.status, 200);
  for (let i = 0; i < 3; i++) assert.equal((await tlsRequest(certs, port, '/fast')).peerFingerprint, newFp);

  // The old worker is still draining with the request in flight; it completes on its connection.
  assert.equal(alive(oldWorker), true, 'the old worker waits for its in-flight request');
  held.splice(0).forEach((res) => res.end('released'));
  const done = await inFlight;
  assert.equal(done.status, 200);
  assert.equal(done.body, 'released');
  assert.equal(done.peerFingerprint, oldFp, 'the in-flight request finished on its old connection');
  await gw.waitForLine((l) => l.msg === 'worker exited' && l.workerPid === oldWorker && l.code === 0, 10_000, 'the old worker exiting 0');
  agent.destroy();
  assert.equal(ready.workers, 1);
});
