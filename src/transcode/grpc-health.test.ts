// The grpc.health.v1 probe: its hand-made encoding against protobufjs, and
// each verdict against real servers (grpc-js with and without the health
// service, nothing listening, an h2c server that never answers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import grpc from '@grpc/grpc-js';
import type { ActiveHealthCheckConfig } from '../config/types.js';
import { Target } from '../upstream/target.js';
import type { GrpcChannel } from './grpc-client/index.js';
import {
  addHealthService, HealthCheckRequest, HealthCheckResponse, startGrpcServer, startRawH2,
} from './grpc-client/grpc-test-server.js';
import { decodeServingStatus, encodeHealthCheckRequest, grpcHealthProbe, healthServiceName } from './grpc-health.js';
import net from 'node:net';

/** A port with nothing listening on it (bound then released). */
function deadPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

function config(path: string, timeoutMs = 500): ActiveHealthCheckConfig {
  return { path, intervalMs: 1000, timeoutMs, healthyThreshold: 1, unhealthyThreshold: 1, expectStatus: [200, 399] };
}

/** A target whose connection is never used here (the probe dials its own). */
function target(port: number): Target {
  return new Target<GrpcChannel>({ url: `h2c://127.0.0.1:${port}`, weight: 1 }, 0, { connections: 1, keepAliveTimeoutMs: 1000 }, 1000,
    () => ({ close: async () => {} }) as unknown as GrpcChannel);
}

async function probeOnce(port: number, path: string, timeoutMs = 500): Promise<{ ok: boolean; reason: string }> {
  const probe = grpcHealthProbe(target(port), config(path, timeoutMs));
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), timeoutMs);
  try {
    return await probe.check(ac.signal);
  } finally {
    clearTimeout(timer);
    await probe.close();
  }
}

test('health messages: request and response encoding agree with protobufjs', () => {
  for (const service of ['', 'example.library.v1.LibraryService', 'x'.repeat(200)]) {
    const ours = Buffer.from(encodeHealthCheckRequest(service));
    assert.deepEqual(HealthCheckRequest.toObject(HealthCheckRequest.decode(ours), { defaults: true }), { service });
    if (service !== '') assert.deepEqual(ours, Buffer.from(HealthCheckRequest.encode({ service }).finish()));
  }
  for (const status of [0, 1, 2, 3]) {
    assert.equal(decodeServingStatus(HealthCheckResponse.encode(HealthCheckResponse.fromObject({ status })).finish()), status);
  }
  assert.equal(decodeServingStatus(new Uint8Array(0)), 0);
  // Unknown fields (varint, length-delimited, fixed64, fixed32) are skipped.
  assert.equal(decodeServingStatus(Uint8Array.from([0x10, 0x96, 0x01, 0x1a, 0x02, 0x61, 0x62, 0x21, 1, 2, 3, 4, 5, 6, 7, 8, 0x2d, 1, 2, 3, 4, 0x08, 0x02])), 2);
  assert.throws(() => decodeServingStatus(Uint8Array.from([0x08])), /truncated/);
  assert.equal(healthServiceName('/'), '');
  assert.equal(healthServiceName('/example.library.v1.LibraryService'), 'example.library.v1.LibraryService');
});

test('probe: SERVING is healthy; NOT_SERVING and an unknown service (NOT_FOUND) are not; the path names the service', async () => {
  const server = new grpc.Server();
  const health = addHealthService(server, { '': 'SERVING', 'svc.A': 'NOT_SERVING' });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  try {
    assert.deepEqual(await probeOnce(port, '/'), { ok: true, reason: 'SERVING' });
    assert.deepEqual(await probeOnce(port, '/svc.A'), { ok: false, reason: 'NOT_SERVING' });
    const unknown = await probeOnce(port, '/svc.B');
    assert.equal(unknown.ok, false);
    assert.match(unknown.reason, /^NOT_FOUND: unknown service "svc.B"/);
    assert.deepEqual(health.asked, ['', 'svc.A', 'svc.B']);
  } finally {
    server.forceShutdown();
  }
});

test('probe: a gRPC server without the health service (UNIMPLEMENTED) is healthy; refused and silent servers are not', async () => {
  const plain = await startGrpcServer();
  const silent = await startRawH2(() => { /* never answers */ });
  try {
    const r = await probeOnce(plain.port, '/');
    assert.equal(r.ok, true);
    assert.match(r.reason, /^UNIMPLEMENTED/);
    const refused = await probeOnce(await deadPort(), '/');
    assert.equal(refused.ok, false);
    assert.match(refused.reason, /^UNAVAILABLE: .*ECONNREFUSED/);
    const t0 = Date.now();
    assert.deepEqual(await probeOnce(silent.port, '/', 150), { ok: false, reason: 'timeout after 150ms' });
    assert.ok(Date.now() - t0 < 1000);
  } finally {
    plain.stop();
    await silent.close();
  }
});
