// `turnpike start --demo`: the config and environment are validated before
// the demo services start, a taken demo port is one clear line, and
// TURNPIKE_DEMO_PORT_BASE moves the services and the upstream targets
// that point at them.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, freePortRange, httpGet, portIsFree, runCliToEnd, spawnCli, startGateway, waitUntil } from './fixtures/gateway-process.js';

const dir = mkdtempSync(join(tmpdir(), 'turnpike-e2eproc-demo-'));
const cleanups: Array<() => unknown> = [];

after(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

/** The bundled demo's upstreams (fixed 127.0.0.1:3001-3004, as in config/gateway.yaml) behind test ports. */
function demoYaml(port: number, adminPort: number): string {
  return [
    `server: { host: 127.0.0.1, port: ${port}, workers: 1, gracePeriod: 2s }`,
    `admin: { host: 127.0.0.1, port: ${adminPort} }`,
    'upstreams:',
    '  users: { targets: [ { url: "http://127.0.0.1:3001" } ] }',
    '  orders: { targets: [ { url: "http://127.0.0.1:3003" } ] }',
    '  payments: { targets: [ { url: "http://127.0.0.1:3004" } ] }',
    'routes:',
    '  - { name: user, match: { path: "/users/:id" }, upstream: users, rewrite: "/v1/users/:id" }',
    '  - { name: orders, match: { path: "/orders/*" }, upstream: orders }',
    '  - { name: payments, match: { path: "/payments/*" }, upstream: payments, stripPrefix: /payments }',
    '',
  ].join('\n');
}

function writeConfig(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function occupy(port: number): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

test('TURNPIKE_DEMO_PORT_BASE moves the demo services and the targets on 127.0.0.1:3001-3004 with them', async () => {
  const base = await freePortRange(4);
  const port = await freePort();
  const gw = await startGateway(demoYaml(port, await freePort()), { args: ['--demo'], env: { TURNPIKE_DEMO_PORT_BASE: String(base) } });
  cleanups.push(() => gw.cleanup());
  const demo = gw.lines.find((l) => l.msg === 'demo services listening');
  assert.deepEqual(demo?.services, [0, 1, 2, 3].map((i) => `${['users', 'orders-v1', 'orders-v2', 'payments'][i]}@127.0.0.1:${base + i}`));

  const grace = JSON.parse((await httpGet(port, '/users/42')).body);
  assert.deepEqual([grace.id, grace.name, grace.email, grace.accountId], ['42', 'Grace Hopper', 'grace@example.com', 'acc-4242']);
  assert.equal(JSON.parse((await httpGet(port, '/orders/7')).body).version, 'v2');
  assert.equal(JSON.parse((await httpGet(port, '/payments/charge')).body).service, 'payments');

  process.kill(gw.pid, 'SIGTERM');
  assert.deepEqual(await gw.exited, { code: 0, signal: null });
  await waitUntil('the demo ports are released', async () => (await Promise.all([0, 1, 2, 3].map((i) => portIsFree(base + i)))).every(Boolean));
});

test('a taken demo port is one line naming it and the variable to move them; nothing keeps running', async () => {
  const base = await freePortRange(4);
  await occupy(base + 1);
  const adminPort = await freePort();
  const r = await runCliToEnd(['start', '--config', writeConfig('taken.yaml', demoYaml(await freePort(), adminPort)), '--demo'], 8000,
    { TURNPIKE_DEMO_PORT_BASE: String(base) });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, `turnpike: cannot listen on 127.0.0.1:${base + 1} (demo orders-v1): address in use; move the demo services with TURNPIKE_DEMO_PORT_BASE\n`);
  assert.ok(!r.stdout.includes('"msg":"ready"'));
  // The admin listener and the other demo services were closed on the way out.
  assert.ok(await portIsFree(adminPort));
  assert.ok(await portIsFree(base));
});

test('a bad variable is reported before any demo port is tried', async () => {
  const base = await freePortRange(4);
  await occupy(base);
  const config = writeConfig('env.yaml', demoYaml(await freePort(), await freePort()));
  const r = await runCliToEnd(['start', '--config', config, '--demo'], 8000, { TURNPIKE_PORT: 'abc', TURNPIKE_DEMO_PORT_BASE: String(base) });
  assert.equal(r.code, 1);
  assert.equal(r.stderr, 'invalid configuration (1 error):\nTURNPIKE_PORT: must be an integer 1-65535, got "abc"\n');
  assert.equal(r.stdout, '');

  const bad = await runCliToEnd(['start', '--config', config, '--demo'], 8000, { TURNPIKE_DEMO_PORT_BASE: '65535' });
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr, 'turnpike: TURNPIKE_DEMO_PORT_BASE: must be an integer 1-65532, got "65535"\n');
  assert.equal(bad.stdout, '');
});

test('`turnpike demo --host H` runs only the demo services on H until SIGTERM; a taken port is one line and exit 1', async () => {
  const base = await freePortRange(4);
  const demo = spawnCli(['demo', '--host', '127.0.0.1'], { TURNPIKE_DEMO_PORT_BASE: String(base) });
  cleanups.push(() => demo.killGroup());
  const listening = await demo.waitForLine((l) => l.msg === 'demo services listening', 8000, 'the listening line');
  assert.deepEqual(listening.services, [0, 1, 2, 3].map((i) => `${['users', 'orders-v1', 'orders-v2', 'payments'][i]}@127.0.0.1:${base + i}`));
  assert.equal(JSON.parse((await httpGet(base, '/v1/users/42')).body).name, 'Grace Hopper');
  assert.equal(JSON.parse((await httpGet(base + 3, '/health')).body).status, 'ok');

  const taken = await runCliToEnd(['demo'], 8000, { TURNPIKE_DEMO_PORT_BASE: String(base) });
  assert.equal(taken.code, 1);
  assert.equal(taken.stderr, `turnpike: cannot listen on 127.0.0.1:${base} (demo users): address in use; move the demo services with TURNPIKE_DEMO_PORT_BASE\n`);

  process.kill(demo.pid, 'SIGTERM');
  assert.deepEqual(await demo.exited, { code: 0, signal: null });
  assert.ok(demo.lines.some((l) => l.msg === 'stopped'));
  await waitUntil('the demo ports are released', async () => (await Promise.all([0, 1, 2, 3].map((i) => portIsFree(base + i)))).every(Boolean));
});
