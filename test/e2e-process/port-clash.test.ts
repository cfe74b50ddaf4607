// Port clashes at start-up: a second gateway on a port another process
// listens on is refused (the workers' SO_REUSEPORT would otherwise share it
// silently), a taken admin port is one clear line, and a reload onto a taken
// port keeps the running generation. A reload onto a free port still works.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { gatewayYaml } from './fixtures/config.js';
import { freePort, httpGet, readyz, runCliToEnd, sample, startGateway, waitUntil, type Gateway } from './fixtures/gateway-process.js';
import { startUpstream, type Upstream } from './fixtures/upstreams.js';

let up: Upstream;
const cleanups: Array<() => unknown> = [];

before(async () => {
  up = await startUpstream('A');
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await up.close();
});

function yaml(port: number, adminPort: number, host = '127.0.0.1'): string {
  const text = gatewayYaml({ port, adminPort, workers: 1, upstreams: { a: up.url }, routes: [{ name: 'svc', path: '/svc/*', upstream: 'a' }] });
  return text.replace('host: 127.0.0.1, port:', `host: "${host}", port:`);
}

async function gateway(port: number, adminPort: number): Promise<Gateway> {
  const gw = await startGateway(yaml(port, adminPort));
  cleanups.push(() => gw.cleanup());
  return gw;
}

/** A plain listener (no SO_REUSEPORT) held by this test process. */
async function occupy(port: number, host = '127.0.0.1'): Promise<Server> {
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return server;
}

/** One line on stderr, no stack trace, nothing started. */
function assertOneLineFailure(r: { code: number | null; stdout: string; stderr: string }, line: string): void {
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, line + '\n');
  assert.ok(!r.stdout.includes('"msg":"ready"'), 'nothing became ready');
  assert.ok(!r.stdout.includes('"msg":"admin listening"'), 'the admin listener did not start');
}

test('a second gateway on a port a running gateway serves exits 1 naming host:port; the first keeps serving', async () => {
  const port = await freePort();
  const first = await gateway(port, await freePort());
  for (const host of ['127.0.0.1', '0.0.0.0', ...((await ipv6()) ? ['::'] : [])]) {
    const second = await runCliToEnd(['start', '--config', writeTemp(yaml(port, await freePort(), host))]);
    const shown = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    assertOneLineFailure(second, `turnpike: cannot listen on ${shown} (gateway): address in use`);
  }
  const reply = await httpGet(port, '/svc/still');
  assert.equal(reply.body, 'A:/svc/still');
  assert.equal((await readyz(first)).body.generation, 1);
});

test('a taken admin port is one line naming it, exit 1, no stack trace', async () => {
  const adminPort = await freePort();
  await occupy(adminPort);
  const r = await runCliToEnd(['start', '--config', writeTemp(yaml(await freePort(), adminPort))]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, `turnpike: cannot listen on 127.0.0.1:${adminPort} (admin): address in use\n`);
  assert.ok(!r.stdout.includes('"msg":"ready"'));
});

test('a reload onto a port another process holds is refused; onto a free port it goes through', async () => {
  const port = await freePort();
  const adminPort = await freePort();
  const gw = await gateway(port, adminPort);
  const taken = await freePort();
  await occupy(taken);

  gw.writeConfig(yaml(taken, adminPort));
  process.kill(gw.pid, 'SIGHUP');
  const failed = await gw.waitForLine((l) => l.msg === 'config reload failed; keeping the running configuration');
  assert.equal(failed.reason, `cannot listen on 127.0.0.1:${taken} (gateway): address in use`);
  assert.equal((await httpGet(port, '/svc/kept')).body, 'A:/svc/kept');
  const metrics = (await httpGet(adminPort, '/metrics')).body;
  assert.equal(sample(metrics, 'turnpike_config_reloads_total{result="error"}'), 1);

  const next = await freePort();
  gw.writeConfig(yaml(next, adminPort));
  process.kill(gw.pid, 'SIGHUP');
  await gw.waitForLine((l) => l.msg === 'reloaded' && l.port === next);
  assert.equal((await httpGet(next, '/svc/moved')).body, 'A:/svc/moved');
  await waitUntil('the old port is closed', async () => {
    try {
      await httpGet(port, '/svc/old', { timeoutMs: 500 });
      return false;
    } catch {
      return true;
    }
  });
});

/** Whether this host can bind IPv6 at all (some containers cannot). */
async function ipv6(): Promise<boolean> {
  const server = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(0, '::1', () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => server.close(() => resolve()));
  return ok;
}

/** Writes a config file into a temp dir removed after the tests. */
function writeTemp(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-e2eproc-clash-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'gateway.yaml');
  writeFileSync(file, text);
  return file;
}
