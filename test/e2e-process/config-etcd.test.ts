// Configuration from a real etcd: push, watch, an invalid revision refused,
// etcd killed and restarted, a boot from the cache file while etcd is down,
// and three instances on one etcd converging on one push.
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startEtcd, type TestEtcd } from '../fixtures/etcd-server.js';
import { gatewayYaml } from './fixtures/config.js';
import { configDetails, putRaw, startEtcdGateway } from './fixtures/etcd-gateway.js';
import { httpGet, runCliToEnd, sample, waitUntil, type GatewayProcess } from './fixtures/gateway-process.js';
import { startUpstream, type Upstream } from './fixtures/upstreams.js';
import { failures, startLoad } from './fixtures/load.js';

const PREFIX = '/turnpike/test';
let etcd: TestEtcd;
let a: Upstream;
let b: Upstream;
let dir: string;
const gateways: GatewayProcess[] = [];

before(async () => {
  [etcd, a, b] = await Promise.all([startEtcd(), startUpstream('A'), startUpstream('B')]);
  dir = mkdtempSync(join(tmpdir(), 'turnpike-etcd-config-'));
});

after(async () => {
  for (const gw of gateways) gw.killGroup();
  await Promise.all([etcd.close(), a.close(), b.close()]);
  rmSync(dir, { recursive: true, force: true });
});

/** A config sending /svc/* to `upstream` (ports come from the env of each gateway). */
function yaml(upstream: 'a' | 'b'): string {
  return gatewayYaml({ port: 8080, adminPort: 9901, workers: 1, upstreams: { a: a.url, b: b.url }, routes: [{ name: 'svc', path: '/svc/*', upstream }] });
}

/** `turnpike config push`; resolves with the revision it printed. */
async function push(text: string): Promise<number> {
  const file = join(dir, `push-${Date.now()}-${Math.random()}.yaml`);
  writeFileSync(file, text);
  const r = await runCliToEnd(['config', 'push', '--config', file, '--etcd', etcd.endpoint, '--prefix', PREFIX], 15_000);
  assert.equal(r.code, 0, r.stderr);
  const m = /revision (\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  return Number(m[1]);
}

/** A push straight to etcd (what `config push` does after validating; the CLI has its own tests). */
function pushDirect(text: string): Promise<number> {
  return putRaw(etcd.endpoint, `${PREFIX}/config`, text);
}

async function servedBy(gw: GatewayProcess, name: string): Promise<boolean> {
  const r = await httpGet(gw.port, '/svc/x');
  return r.status === 200 && r.body === `${name}:/svc/x`;
}

let gw: GatewayProcess;
let source: string;
let cachePath: string;
let rev2: number;
let rev4: number;
let staleCache: string;

test('a gateway started on etcd serves the pushed config and caches it', async () => {
  source = `etcd://127.0.0.1:${etcd.clientPort}${PREFIX}`;
  cachePath = join(dir, 'cache', 'config-cache.yaml');
  const rev1 = await push(yaml('a'));
  gw = await startEtcdGateway({ source, cachePath });
  gateways.push(gw);
  assert.ok(await servedBy(gw, 'A'));
  const d1 = await configDetails(gw);
  assert.equal(d1.source, 'etcd');
  assert.equal(d1.path, `${source}/config`);
  assert.equal(d1.revision, rev1);
  assert.match(readFileSync(cachePath, 'utf8'), new RegExp(`"revision":${rev1}`));

});

test('the watch applies a second push without failing a request under keep-alive load', async () => {
  const load = startLoad({ port: gw.port, paths: ['/svc/fixed', '/svc/chunked'], concurrency: 8, maxMs: 15_000 });
  await new Promise((r) => setTimeout(r, 300));
  rev2 = await pushDirect(yaml('b'));
  await waitUntil('the gateway serves revision 2 (upstream B)', () => servedBy(gw, 'B'), 15_000);
  await new Promise((r) => setTimeout(r, 300));
  const outcomes = await load.stop();
  assert.deepEqual(failures(outcomes), [], 'no request failed while the push was applied');
  assert.ok(outcomes.some((o) => o.body?.startsWith('A:')) && outcomes.some((o) => o.body?.startsWith('B:')), 'served by A, then B');
  await waitUntil('readyz shows revision 2', async () => (await configDetails(gw)).revision === rev2);
  await gw.waitForLine((l) => l.msg === 'reloaded', 5000, 'the "reloaded" line');

});

test('an invalid revision is refused, named in the log, /readyz and the metric; the last good config serves', async () => {
  // Written around the CLI's validation, as a careless operator could.
  const bad = yaml('a').replace('upstream: a', 'upstream: nope');
  const rev3 = await putRaw(etcd.endpoint, `${PREFIX}/config`, bad);
  await waitUntil('readyz shows the rejected revision', async () => (await configDetails(gw)).rejectedRevision === rev3, 15_000);
  const d3 = await configDetails(gw);
  assert.equal(d3.revision, rev2);
  assert.match(d3.rejectedReason!, new RegExp(`${source}/config@rev${rev3}:\\d+:\\d+: routes\\[0\\]\\.upstream: `));
  const line = await gw.waitForLine((l) => l.msg === 'config reload failed; keeping the running configuration', 5000, 'the refusal line');
  assert.equal(line.revision, rev3);
  assert.match(String(line.reason), /routes\[0\]\.upstream/);
  assert.ok(await servedBy(gw, 'B'), 'the last good config keeps serving');
  const metrics = (await httpGet(gw.adminPort, '/metrics')).body;
  assert.equal(sample(metrics, 'turnpike_config_revision{state="applied"}'), rev2);
  assert.equal(sample(metrics, 'turnpike_config_revision{state="rejected"}'), rev3);
  assert.match(readFileSync(cachePath, 'utf8'), new RegExp(`"revision":${rev2}`), 'the cache holds the last good revision');
  staleCache = join(dir, 'stale-cache.yaml');
  copyFileSync(cachePath, staleCache);
});

test('etcd killed: the gateway keeps serving; restarted: a push made then is applied', async () => {
  await etcd.stop();
  await waitUntil('readyz shows etcd disconnected', async () => (await configDetails(gw)).connected === false, 15_000);
  assert.ok(await servedBy(gw, 'B'), 'still serving while etcd is down');
  await etcd.start();
  rev4 = await pushDirect(yaml('a'));
  await waitUntil('the gateway applies the push made after the restart', () => servedBy(gw, 'A'), 15_000);
  const d4 = await configDetails(gw);
  assert.equal(d4.revision, rev4);
  assert.equal(d4.rejectedRevision, null, 'a newer applied revision clears the rejection');
});

test('boot with etcd down from the cache file, then catch up on the revision missed', async () => {
  // The cache holds revision 2 (B); etcd holds revision 4 (A).
  await etcd.stop();
  const gw2 = await startEtcdGateway({ source, cachePath: staleCache });
  gateways.push(gw2);
  assert.ok(await servedBy(gw2, 'B'), 'serves the cached config');
  const c = await configDetails(gw2);
  assert.equal(c.revision, rev2);
  assert.equal(c.fromCache, true);
  await gw2.waitForLine((l) => l.msg === 'started from the config cache; will catch up when etcd answers', 5000, 'the cache line');
  await etcd.start();
  await waitUntil('the cached gateway catches up with the revision it missed', () => servedBy(gw2, 'A'), 20_000);
  assert.equal((await configDetails(gw2)).revision, rev4);
});

test('with etcd down and no cache file the gateway refuses to start, naming both', async () => {
  await etcd.stop();
  try {
    const r = await runCliToEnd(['start'], 20_000, {
      TURNPIKE_CONFIG_SOURCE: `etcd://127.0.0.1:${etcd.clientPort}${PREFIX}`,
      TURNPIKE_CONFIG_CACHE: join(dir, 'absent', 'cache.yaml'),
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /unreachable.*no config cache at .*absent\/cache\.yaml/);
  } finally {
    await etcd.start();
  }
});

test('three instances (distinct ports, one etcd) all apply one push', async () => {
  const fleet = '/turnpike/fleet';
  const source = `etcd://127.0.0.1:${etcd.clientPort}${fleet}`;
  const rev1 = await putRaw(etcd.endpoint, `${fleet}/config`, yaml('a'));
  const started = await Promise.allSettled([0, 1, 2].map((i) => startEtcdGateway({ source, cachePath: join(dir, `fleet-cache-${i}.yaml`), env: { TURNPIKE_LOG_LEVEL: 'debug' } })));
  const fleetGateways: GatewayProcess[] = [];
  for (const s of started) if (s.status === 'fulfilled') { gateways.push(s.value); fleetGateways.push(s.value); }
  for (const s of started) if (s.status === 'rejected') throw s.reason;
  assert.equal(new Set(fleetGateways.map((g) => g.port)).size, 3);
  for (const gw of fleetGateways) {
    assert.equal((await httpGet(gw.port, '/svc/1')).body, 'A:/svc/1');
    assert.equal((await configDetails(gw)).revision, rev1);
  }
  const rev2 = await putRaw(etcd.endpoint, `${fleet}/config`, yaml('b'));
  await Promise.all(fleetGateways.map((gw, i) => waitUntil(`instance ${i} serves revision ${rev2}`, async () => {
    return (await httpGet(gw.port, '/svc/2')).body === 'B:/svc/2' && (await configDetails(gw)).revision === rev2;
  }, 15_000)));
  // The etcd source keeps warm spare workers: the new generation is a spare given the config, not a fresh fork.
  for (const gw of fleetGateways) {
    await gw.waitForLine((l) => l.msg === 'worker forked' && l.generation === 2 && l.spare === true, 5000, 'generation 2 taken from the spares');
  }
});
