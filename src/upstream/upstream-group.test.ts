import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { UpstreamConfig } from '../config/types.js';
import { createUpstreamGroup } from './upstream-group.js';

function config(urls: string[], over: Partial<UpstreamConfig> = {}, weights?: number[]): UpstreamConfig {
  return {
    name: 'svc',
    targets: urls.map((url, i) => ({ url, weight: weights?.[i] ?? 1 })),
    balance: 'round-robin',
    hashOn: 'ip',
    healthCheck: null,
    passiveHealth: { consecutiveFailures: 3, ejectMs: 1_000, count5xx: true },
    connections: 4,
    keepAliveTimeoutMs: 1_000,
    protocol: 'http',
    tls: null,
    ...over,
  };
}

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function okServer(): Server {
  return createServer((_req, res) => res.end('ok'));
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** An origin nothing listens on: bind port 0, note the port, close. */
async function closedOrigin(): Promise<string> {
  const s = createServer();
  const url = await listen(s);
  await closeServer(s);
  return url;
}

// No requests are sent to these: pools connect lazily.
const U1 = 'http://127.0.0.1:41011';
const U2 = 'http://127.0.0.1:41012';

test('round-robin: weights 3:1 give exactly 300/100 over 400 picks, interleaved; an ejected target is skipped', async () => {
  const group = createUpstreamGroup(config([U1, U2], { passiveHealth: { consecutiveFailures: 1, ejectMs: 5_000, count5xx: true } }, [3, 1]));
  try {
    const seq: string[] = [];
    for (let i = 0; i < 400; i++) seq.push(group.pick()!.url);
    assert.equal(seq.filter((u) => u === U1).length, 300);
    assert.equal(seq.filter((u) => u === U2).length, 100);
    assert.deepEqual(seq.slice(0, 4), [U1, U1, U2, U1]); // smooth: A A B A, not A A A B
    group.reportFailure(group.targets[1], 'connect');
    for (let i = 0; i < 50; i++) assert.equal(group.pick()?.url, U1);
  } finally {
    await group.close();
  }
});

test('least-request: prefers the less-loaded target, by inflight/weight', async () => {
  const group = createUpstreamGroup(config([U1, U2], { balance: 'least-request' }));
  const [a, b] = group.targets;
  try {
    for (let i = 0; i < 5; i++) group.onStart(a);
    for (let i = 0; i < 100; i++) assert.equal(group.pick(), b);
    for (let i = 0; i < 5; i++) group.onFinish(a);
    for (let i = 0; i < 3; i++) group.onStart(b);
    for (let i = 0; i < 100; i++) assert.equal(group.pick(), a);
    for (let i = 0; i < 3; i++) group.onFinish(b);
    assert.equal(a.inflight + b.inflight, 0);
    // Equal load: both get picked.
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) seen.add(group.pick()!.url);
    assert.equal(seen.size, 2);
  } finally {
    await group.close();
  }
  // Weighted: A (weight 4) with 2 in flight scores 3/4, beats idle B (weight 1) at 1/1.
  const weighted = createUpstreamGroup(config([U1, U2], { balance: 'least-request' }, [4, 1]));
  try {
    weighted.onStart(weighted.targets[0]);
    weighted.onStart(weighted.targets[0]);
    for (let i = 0; i < 50; i++) assert.equal(weighted.pick(), weighted.targets[0]);
    weighted.onFinish(weighted.targets[0]);
    weighted.onFinish(weighted.targets[0]);
  } finally {
    await weighted.close();
  }
  // One target: returned as is; none available: null.
  const single = createUpstreamGroup(config([U1], { balance: 'least-request', passiveHealth: { consecutiveFailures: 1, ejectMs: 1000, count5xx: true } }));
  try {
    assert.equal(single.pick(), single.targets[0]);
    single.reportFailure(single.targets[0], 'timeout');
    assert.equal(single.pick(), null);
  } finally {
    await single.close();
  }
});

test('passive: real connect failures eject after N, the target returns after ejectMs, re-ejection doubles up to 8x, success resets', async () => {
  const live = okServer();
  const liveUrl = await listen(live);
  const deadUrl = await closedOrigin();
  let now = 10_000;
  const ejections: number[] = [];
  const group = createUpstreamGroup(config([deadUrl, liveUrl]), {
    now: () => now,
    onEject: (_t, ms) => ejections.push(ms),
  });
  const [dead] = group.targets;
  /** One real request through the target's pool, reported as the dispatcher would. */
  async function attempt(): Promise<void> {
    try {
      const res = await dead.pool.request({ path: '/', method: 'GET' });
      await res.body.dump();
      group.reportSuccess(dead, res.statusCode);
    } catch (err) {
      assert.equal((err as { code?: string }).code, 'ECONNREFUSED');
      group.reportFailure(dead, 'connect');
    }
  }
  try {
    await attempt();
    await attempt();
    assert.equal(dead.isAvailable(now), true, 'two failures are below the threshold of 3');
    await attempt();
    assert.equal(dead.isAvailable(now), false);
    assert.deepEqual(ejections, [1_000]);
    for (let i = 0; i < 10; i++) assert.equal(group.pick()?.url, liveUrl);
    await attempt(); // a late failure while ejected neither extends nor counts
    assert.equal(dead.ejectedUntil, now + 1_000);

    // Half-open after ejectMs: one more failure re-ejects at once, doubling to the 8x cap.
    for (const expected of [2_000, 4_000, 8_000, 8_000]) {
      now = dead.ejectedUntil;
      assert.equal(dead.isAvailable(now), true);
      await attempt();
      assert.equal(dead.ejectedUntil - now, expected);
      assert.equal(dead.isAvailable(now + expected - 1), false);
    }
    assert.deepEqual(ejections, [1_000, 2_000, 4_000, 8_000, 8_000]);

    // The target comes back on the same port: a real success resets counter and back-off.
    now = dead.ejectedUntil;
    const revived = okServer();
    await new Promise<void>((resolve) => revived.listen(Number(new URL(deadUrl).port), '127.0.0.1', resolve));
    try {
      await attempt();
      assert.equal(dead.consecutiveFailures, 0);
      assert.equal(dead.ejections, 0);
    } finally {
      await closeServer(revived);
    }
    await attempt();
    assert.equal(dead.isAvailable(now), true, 'after a success one failure no longer ejects');
    assert.equal(group.snapshot()[0].consecutiveFailures, 1);
  } finally {
    await group.close();
    await closeServer(live);
  }
});

test('passive: 5xx count only when count5xx; reportSuccess with a 5xx status counts as a 5xx failure', async () => {
  const counted = createUpstreamGroup(config([U1], { passiveHealth: { consecutiveFailures: 2, ejectMs: 1000, count5xx: true } }));
  const ignored = createUpstreamGroup(config([U1], { passiveHealth: { consecutiveFailures: 2, ejectMs: 1000, count5xx: false } }));
  const disabled = createUpstreamGroup(config([U1], { passiveHealth: { consecutiveFailures: 0, ejectMs: 1000, count5xx: true } }));
  try {
    counted.reportSuccess(counted.targets[0], 503);
    counted.reportFailure(counted.targets[0], '5xx');
    assert.equal(counted.pick(), null);
    for (let i = 0; i < 5; i++) {
      ignored.reportSuccess(ignored.targets[0], 502);
      ignored.reportFailure(ignored.targets[0], '5xx');
    }
    assert.equal(ignored.targets[0].consecutiveFailures, 0);
    ignored.reportFailure(ignored.targets[0], 'timeout');
    ignored.reportSuccess(ignored.targets[0], 500); // a response all the same: resets
    ignored.reportFailure(ignored.targets[0], 'timeout');
    assert.ok(ignored.pick(), 'non-consecutive failures do not eject');
    ignored.reportFailure(ignored.targets[0], 'connect');
    assert.equal(ignored.pick(), null);
    for (let i = 0; i < 20; i++) disabled.reportFailure(disabled.targets[0], 'connect');
    assert.ok(disabled.pick(), 'consecutiveFailures 0 disables ejection');
  } finally {
    await Promise.all([counted.close(), ignored.close(), disabled.close()]);
  }
});

test('pick returns null when every target is down, for every balancer; snapshot reports state', async () => {
  for (const balance of ['round-robin', 'least-request', 'hash'] as const) {
    let now = 0;
    const group = createUpstreamGroup(config([U1, U2], { balance, passiveHealth: { consecutiveFailures: 1, ejectMs: 100, count5xx: true } }), { now: () => now });
    try {
      group.targets[0].activeHealthy = false;
      group.reportFailure(group.targets[1], 'connect');
      assert.equal(group.pick('k'), null, balance);
      const snap = group.snapshot();
      assert.deepEqual(snap.map((s) => s.available), [false, false]);
      assert.equal(snap[1].ejectedUntil, 100);
      assert.equal(snap[0].activeHealthy, false);
      now = 100;
      assert.equal(group.pick('k'), group.targets[1], balance);
    } finally {
      await group.close();
    }
  }
});

test('close() leaves no open handles: sockets are closed and the process exits on its own', async () => {
  // The server lives in this process and counts open connections, so the
  // child's pool and health-check sockets are observed from the other end.
  let open = 0;
  const server = createServer((req, res) => res.end(req.url === '/health' ? 'healthy' : 'ok'));
  server.on('connection', (socket) => {
    open++;
    socket.on('close', () => open--);
  });
  const url = await listen(server);
  const moduleUrl = new URL('./upstream-group.js', import.meta.url).href;
  const script = `
    import { createUpstreamGroup } from ${JSON.stringify(moduleUrl)};
    const group = createUpstreamGroup({
      name: 'x', targets: [{ url: ${JSON.stringify(url)}, weight: 1 }], balance: 'round-robin', hashOn: 'ip',
      healthCheck: { path: '/health', intervalMs: 20, timeoutMs: 500, healthyThreshold: 1, unhealthyThreshold: 1, expectStatus: [200, 399] },
      passiveHealth: { consecutiveFailures: 5, ejectMs: 1000, count5xx: true },
      connections: 4, keepAliveTimeoutMs: 60000, protocol: 'http', tls: null,
    });
    const res = await group.pick().pool.request({ path: '/', method: 'GET' });
    await res.body.text();
    await new Promise((r) => setTimeout(r, 100));
    console.log('closing');
    await group.close();
    console.log('closed');
    setTimeout(() => {}, 400); // stay alive while the parent counts; nothing else may hold the process
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let openBefore = -1;
  let openAfter = -1;
  child.stdout.on('data', (d: Buffer) => {
    const text = d.toString();
    if (text.includes('closing')) openBefore = open;
    if (text.includes('closed')) setTimeout(() => (openAfter = open), 100);
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  try {
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, 'child did not exit by itself within 5 s');
  } finally {
    clearTimeout(killer);
    await closeServer(server);
  }
  assert.ok(openBefore >= 2, `pool and health-check connections expected before close, saw ${openBefore}`);
  assert.equal(openAfter, 0, 'connections still open after close()');
});
