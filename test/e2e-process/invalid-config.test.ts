// Invalid configuration: `validate` and `start` fail with file:line:col
// messages, and a SIGHUP with a broken file keeps the running routes.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gatewayYaml } from './fixtures/config.js';
import { freePort, httpGet, readyz, runCliToEnd, sample, startGateway, type Gateway } from './fixtures/gateway-process.js';
import { startUpstream, type Upstream } from './fixtures/upstreams.js';

const dir = mkdtempSync(join(tmpdir(), 'turnpike-e2eproc-invalid-'));
/** Schema and semantic errors at known positions. */
const BAD = join(dir, 'bad.yaml');
/** Not even YAML. */
const MALFORMED = join(dir, 'malformed.yaml');
const BAD_LINES = [
  `${BAD}:1:34: server.port: must be an integer 1-65535`,
  `${BAD}:5:20: routes[0].match.path: must start with /`,
  `${BAD}:6:15: routes[0].upstream: unknown upstream "missing" (no upstreams are defined)`,
];
let up: Upstream;
let gw: Gateway | null = null;

before(async () => {
  writeFileSync(BAD, [
    'server: { host: 127.0.0.1, port: 99999, workers: 2 }',
    'admin: { port: 9901 }',
    'routes:',
    '  - name: svc',
    '    match: { path: "svc/*" }',
    '    upstream: missing',
    '',
  ].join('\n'));
  writeFileSync(MALFORMED, 'server: { port: 8080\nroutes: [\n');
  up = await startUpstream('A');
});

after(async () => {
  gw?.cleanup();
  await up.close();
  rmSync(dir, { recursive: true, force: true });
});

test('turnpike validate exits 1 and prints every problem as file:line:col: path: message', async () => {
  const r = await runCliToEnd(['validate', '--config', BAD]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr, `invalid configuration (3 errors):\n${BAD_LINES.join('\n')}\n`);

  const m = await runCliToEnd(['validate', '--config', MALFORMED]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, new RegExp(`^${reEscape(MALFORMED)}:2:1: YAML syntax error: `, 'm'));
});

test('turnpike start with an invalid or malformed config exits 1 with the same messages', async () => {
  const r = await runCliToEnd(['start', '--config', BAD]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, `invalid configuration (3 errors):\n${BAD_LINES.join('\n')}\n`);
  assert.ok(!r.stdout.includes('"msg":"ready"'), 'nothing started');

  const m = await runCliToEnd(['start', '--config', MALFORMED]);
  assert.equal(m.code, 1);
  assert.match(m.stderr, new RegExp(`^${reEscape(MALFORMED)}:2:1: YAML syntax error: `, 'm'));
});

test('SIGHUP with a broken file keeps serving the old routes', async () => {
  const port = await freePort();
  const adminPort = await freePort();
  gw = await startGateway(gatewayYaml({ port, adminPort, upstreams: { a: up.url }, routes: [{ name: 'svc', path: '/svc/*', upstream: 'a' }] }));
  assert.equal((await httpGet(port, '/svc/before')).body, 'A:/svc/before');
  const pids = (await readyz(gw)).body.workers.map((w) => w.pid).sort();

  gw.writeConfig('server: { port: 8080\nroutes: [\n');
  process.kill(gw.pid, 'SIGHUP');
  const failed = await gw.waitForLine((l) => l.msg === 'config reload failed; keeping the running configuration');
  assert.match(String(failed.reason), new RegExp(`${reEscape(gw.configPath)}:2:1: YAML syntax error: `));

  const reply = await httpGet(port, '/svc/after');
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'A:/svc/after');
  const ready = await readyz(gw);
  assert.equal(ready.status, 200);
  assert.equal(ready.body.generation, 1);
  assert.deepEqual(ready.body.workers.map((w) => w.pid).sort(), pids, 'no worker was replaced');
  const routes = JSON.parse((await httpGet(adminPort, '/routes')).body) as { routes: Array<{ name: string; upstream: string }> };
  assert.deepEqual(routes.routes.map((r) => [r.name, r.upstream]), [['svc', 'a']]);
  const metrics = (await httpGet(adminPort, '/metrics')).body;
  assert.equal(sample(metrics, 'turnpike_config_reloads_total{result="error"}'), 1);
  assert.equal(sample(metrics, 'turnpike_config_reloads_total{result="ok"}') ?? 0, 0);
});

function reEscape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
