import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ActiveHealthCheckConfig, UpstreamConfig } from '../../config/types.js';
import { createUpstreamGroup } from '../upstream-group.js';
import type { Target } from '../target.js';

interface Transition {
  url: string;
  healthy: boolean;
  reason: string;
}

function config(url: string, healthCheck: Partial<ActiveHealthCheckConfig>): UpstreamConfig {
  return {
    name: 'checked',
    targets: [{ url, weight: 1 }],
    balance: 'round-robin',
    hashOn: 'ip',
    healthCheck: {
      path: '/health',
      intervalMs: 50,
      timeoutMs: 200,
      healthyThreshold: 2,
      unhealthyThreshold: 2,
      expectStatus: [200, 399],
      ...healthCheck,
    },
    passiveHealth: { consecutiveFailures: 5, ejectMs: 30_000, count5xx: true },
    connections: 4,
    keepAliveTimeoutMs: 1_000,
    protocol: 'http',
    tls: null,
  };
}

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Resolves with the n-th transition (1-based) or rejects after `ms`. */
function waitFor(transitions: Transition[], n: number, ms = 2_000): Promise<Transition> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const poll = (): void => {
      if (transitions.length >= n) resolve(transitions[n - 1]);
      else if (Date.now() - started > ms) reject(new Error(`only ${transitions.length} transitions after ${ms}ms`));
      else setTimeout(poll, 5);
    };
    poll();
  });
}

test('active: /health 500 → unhealthy after 2 failures, 200 → healthy after 2 successes; pick follows', async () => {
  let status = 500;
  let checks = 0;
  const { server, url } = await serve((req, res) => {
    if (req.url === '/health') checks++;
    res.statusCode = req.url === '/health' ? status : 200;
    res.end('x'.repeat(1000)); // a body, to be drained
  });
  const transitions: Transition[] = [];
  const group = createUpstreamGroup(config(url, {}), {
    onTransition: (t: Target, healthy, reason) => transitions.push({ url: t.url, healthy, reason }),
  });
  try {
    const down = await waitFor(transitions, 1);
    assert.deepEqual([down.url, down.healthy], [url, false]);
    assert.match(down.reason, /status 500 \(2 consecutive failures\)/);
    assert.equal(group.pick(), null);
    assert.equal(group.snapshot()[0].activeHealthy, false);

    status = 204;
    const up = await waitFor(transitions, 2);
    assert.equal(up.healthy, true);
    assert.match(up.reason, /status 204 \(2 consecutive successes\)/);
    assert.equal(group.pick()?.url, url);
    assert.ok(checks >= 4 && checks < 40, `${checks} checks`);
  } finally {
    await group.close();
    await closeServer(server);
  }
});

test('active: the first check runs at start, not after the first interval', async () => {
  const { server, url } = await serve((_req, res) => {
    res.statusCode = 503;
    res.end();
  });
  const transitions: Transition[] = [];
  const group = createUpstreamGroup(config(url, { intervalMs: 60_000, unhealthyThreshold: 1 }), {
    onTransition: (t, healthy, reason) => transitions.push({ url: t.url, healthy, reason }),
  });
  try {
    const down = await waitFor(transitions, 1, 1_000);
    assert.equal(down.healthy, false);
    assert.match(down.reason, /status 503/);
  } finally {
    await group.close();
    await closeServer(server);
  }
});

test('active: a /health that never answers times out and counts as a failure', async () => {
  const hanging: ServerResponse[] = [];
  const { server, url } = await serve((_req, res) => {
    hanging.push(res); // never answered
  });
  const transitions: Transition[] = [];
  const started = Date.now();
  const group = createUpstreamGroup(config(url, { timeoutMs: 80, intervalMs: 30 }), {
    onTransition: (t, healthy, reason) => transitions.push({ url: t.url, healthy, reason }),
  });
  try {
    const down = await waitFor(transitions, 1);
    assert.equal(down.healthy, false);
    assert.match(down.reason, /^timeout after 80ms \(2 consecutive failures\)$/);
    assert.ok(Date.now() - started >= 150, 'two timed-out checks take at least 2 x 80 ms');
    assert.ok(hanging.length >= 2);
  } finally {
    await group.close();
    await closeServer(server);
  }
});

test('active: connection refused counts as a failure; expectStatus bounds are inclusive', async () => {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const deadUrl = `http://127.0.0.1:${(probe.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const { server, url } = await serve((_req, res) => {
    res.statusCode = 418;
    res.end();
  });
  const refused: Transition[] = [];
  const teapot: Transition[] = [];
  const deadGroup = createUpstreamGroup(config(deadUrl, { unhealthyThreshold: 1 }), {
    onTransition: (t, healthy, reason) => refused.push({ url: t.url, healthy, reason }),
  });
  const teapotGroup = createUpstreamGroup(config(url, { unhealthyThreshold: 1, expectStatus: [418, 418] }), {
    onTransition: (t, healthy, reason) => teapot.push({ url: t.url, healthy, reason }),
  });
  try {
    const down = await waitFor(refused, 1);
    assert.match(down.reason, /ECONNREFUSED/);
    await new Promise((resolve) => setTimeout(resolve, 200)); // several rounds of 418
    assert.deepEqual(teapot, []);
    assert.ok(teapotGroup.pick());
  } finally {
    await Promise.all([deadGroup.close(), teapotGroup.close()]);
    await closeServer(server);
  }
});
