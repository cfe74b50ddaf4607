// The access log of a real gateway: on by default on stdout, to a file with
// TURNPIKE_ACCESS_LOG, two workers appending to one file without tearing a
// line, and every line written before the workers exit on SIGTERM.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gatewayYaml } from './fixtures/config.js';
import { freePort, httpGet, startGateway } from './fixtures/gateway-process.js';
import { startUpstream } from './fixtures/upstreams.js';

const dir = mkdtempSync(join(tmpdir(), 'turnpike-access-'));
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(dir, { recursive: true, force: true });
});

async function gateway(env: NodeJS.ProcessEnv) {
  const up = await startUpstream('A');
  cleanups.push(() => up.close());
  const gw = await startGateway(gatewayYaml({
    port: await freePort(), adminPort: await freePort(), upstreams: { a: up.url }, routes: [{ name: 'api', path: '/api/*', upstream: 'a' }],
  }), { env });
  cleanups.push(() => gw.cleanup());
  return gw;
}

test('on by default: one JSON line per request on stdout', async () => {
  const gw = await gateway({});
  const r = await httpGet(gw.port, '/api/hello?token=abc');
  assert.equal(r.status, 200);
  const line = await gw.waitForLine((l) => l.type === 'access', 5000, 'an access line');
  assert.deepEqual([line.method, line.path, line.query, line.status, line.route, line.requestId], ['GET', '/api/hello', 'token=[REDACTED]', 200, 'api', r.headers['x-request-id']]);
  assert.equal(line.level, undefined, 'access lines carry type, not a level');
});

test('TURNPIKE_ACCESS_LOG=<file>: two workers, 600 concurrent requests, 600 whole lines; SIGTERM writes what is pending', async () => {
  const file = join(dir, 'access.log');
  const gw = await gateway({ TURNPIKE_ACCESS_LOG: file });
  const n = 600;
  let next = 0;
  await Promise.all(Array.from({ length: 20 }, async () => {
    while (next < n) {
      const i = next++;
      const r = await httpGet(gw.port, `/api/item-${i}?${'q'.repeat(i % 300)}`, { keepAlive: true });
      assert.equal(r.status, 200);
    }
  }));
  process.kill(gw.pid, 'SIGTERM');
  assert.equal((await gw.exited).code, 0);
  const lines = readFileSync(file, 'utf8').split('\n');
  assert.equal(lines.pop(), '', 'the file ends with a newline');
  assert.equal(lines.length, n);
  const paths = new Set(lines.map((l) => (JSON.parse(l) as { path: string }).path));
  assert.equal(paths.size, n, 'every request once, no line torn or interleaved');
  assert.ok(!gw.out.stdout.includes('"type":"access"'), 'nothing on stdout');
});

test('TURNPIKE_ACCESS_LOG=off: no access lines', async () => {
  const gw = await gateway({ TURNPIKE_ACCESS_LOG: 'off' });
  assert.equal((await httpGet(gw.port, '/api/x')).status, 200);
  assert.equal((await httpGet(gw.port, '/missing')).status, 404);
  await new Promise((r) => setTimeout(r, 200));
  assert.ok(!gw.out.stdout.includes('"type":"access"'));
});
