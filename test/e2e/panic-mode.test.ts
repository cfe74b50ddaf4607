// Panic mode on real upstreams: when passive or active health has taken out
// every target (or more than panicThreshold of them), traffic goes to all of
// them instead of 503 for the whole ejection time, so a target that is back
// serves at once.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { configFromYaml, deadPort, nodeRequest, startUpstream, type TestGateway, type TestUpstream } from './helpers.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import type { ResilienceListener } from '../../src/upstream/resilience/resilience-listener.js';
import { upstreamState, waitFor } from './resilience-helpers.js';

async function get(gw: TestGateway, path: string): Promise<{ status: number; code: string | null; body: string }> {
  const r = await nodeRequest(gw.port, path, {});
  const code = r.headers['content-type'] === 'application/problem+json' ? (JSON.parse(r.body) as { code: string }).code : null;
  return { status: r.status, code, body: r.body };
}

/** A gateway that records panic-mode changes. */
async function gateway(yaml: string): Promise<{ gw: TestGateway; events: string[] }> {
  const events: string[] = [];
  const resilience: ResilienceListener = {
    circuitTransition() {},
    panic(upstream, panic, available, total) { events.push(`${upstream} ${panic ? 'in' : 'out'} ${available}/${total}`); },
  };
  const worker = await startWorker(configFromYaml(yaml), { resilience });
  return { gw: { worker, port: worker.port, base: `http://127.0.0.1:${worker.port}`, close: async () => { await worker.drain(1000); } }, events };
}

describe('panic mode (real upstreams)', () => {
  const cleanup: Array<() => Promise<unknown>> = [];
  after(async () => { for (const c of cleanup.reverse()) await c(); });

  test('a single target that refused until it was ejected serves again as soon as it is back, without waiting for the ejection time', async () => {
    const port = await deadPort();
    const { gw, events } = await gateway(`
server: { workers: 1 }
upstreams:
  lone:
    targets: [ { url: "http://127.0.0.1:${port}" } ]
    passiveHealth: { consecutiveFailures: 2, ejectTime: 1m }
  strict:
    targets: [ { url: "http://127.0.0.1:${port}" } ]
    passiveHealth: { consecutiveFailures: 2, ejectTime: 1m }
    panicThreshold: 0%
routes:
  - { name: lone, match: { path: /lone }, upstream: lone }
  - { name: strict, match: { path: /strict }, upstream: strict }
`);
    cleanup.push(() => gw.close());
    for (const path of ['/lone', '/strict']) {
      for (let i = 0; i < 2; i++) assert.equal((await get(gw, path)).code, 'upstream_connect_failed', path);
    }
    const ejected = await upstreamState(gw, 'lone');
    assert.equal(ejected.targets[0].available, false);
    assert.ok(ejected.targets[0].ejectedUntil > Date.now() + 30_000, 'ejected for a minute');
    // Still down: panic mode keeps trying the target (502), panicThreshold 0% answers 503.
    assert.equal((await get(gw, '/lone')).code, 'upstream_connect_failed');
    assert.equal((await get(gw, '/strict')).code, 'upstream_unavailable');
    assert.deepEqual(events, ['lone in 0/1']);
    // The target comes back.
    const server: Server = createServer((_req, res) => res.end('back'));
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => { server.closeAllConnections(); server.close(r); }));
    for (let i = 0; i < 3; i++) {
      const r = await get(gw, '/lone');
      assert.deepEqual([r.status, r.body], [200, 'back']);
    }
    assert.equal((await get(gw, '/strict')).code, 'upstream_unavailable', 'without panic mode: 503 for the whole ejection time');
    const state = await upstreamState(gw, 'lone');
    assert.equal(state.panic, true, 'the target is still marked ejected; traffic flows regardless');
    assert.equal(state.panicThreshold, 50);
    assert.equal(state.panicPicks, 4);
    assert.equal((await upstreamState(gw, 'strict')).panic, false);
    assert.deepEqual(events, ['lone in 0/1'], 'entering panic is reported once');
  });

  test('active health checks failing on every target: traffic still flows to all of them, and panic ends when they recover', async () => {
    let healthy = false;
    const targets: TestUpstream[] = [];
    for (const name of ['a', 'b']) {
      targets.push(await startUpstream(name, (req, res) => {
        if (req.url === '/health') { res.writeHead(healthy ? 200 : 500); res.end(); return; }
        res.end(name);
      }));
    }
    cleanup.push(() => Promise.all(targets.map((t) => t.close())));
    const list = targets.map((t) => `{ url: "${t.url}" }`).join(', ');
    const { gw, events } = await gateway(`
server: { workers: 1 }
upstreams:
  checked:
    targets: [ ${list} ]
    healthCheck: { path: /health, interval: 100ms, timeout: 1s, unhealthyThreshold: 1, healthyThreshold: 1 }
  strict:
    targets: [ ${list} ]
    healthCheck: { path: /health, interval: 100ms, timeout: 1s, unhealthyThreshold: 1, healthyThreshold: 1 }
    panicThreshold: 0%
routes:
  - { name: checked, match: { path: /checked }, upstream: checked }
  - { name: strict, match: { path: /strict }, upstream: strict }
`);
    cleanup.push(() => gw.close());
    await waitFor('every target actively unhealthy', async () => {
      const [c, s] = [await upstreamState(gw, 'checked'), await upstreamState(gw, 'strict')];
      return [...c.targets, ...s.targets].every((t) => !t.activeHealthy);
    });
    const bodies = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const r = await get(gw, '/checked');
      assert.equal(r.status, 200);
      bodies.add(r.body);
    }
    assert.deepEqual([...bodies].sort(), ['a', 'b'], 'balanced over every target, health ignored');
    assert.equal((await get(gw, '/strict')).code, 'upstream_unavailable');
    assert.equal((await upstreamState(gw, 'checked')).panic, true);
    healthy = true;
    await waitFor('targets healthy again', async () => (await upstreamState(gw, 'checked')).targets.every((t) => t.activeHealthy));
    assert.equal((await get(gw, '/checked')).status, 200);
    assert.equal((await get(gw, '/strict')).status, 200);
    const state = await upstreamState(gw, 'checked');
    assert.deepEqual([state.panic, state.panicPicks], [false, 6]);
    assert.deepEqual(events, ['checked in 0/2', 'checked out 2/2']);
  });
});
