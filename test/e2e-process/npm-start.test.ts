// `npm start` under a supervisor: SIGTERM to the npm process must take the
// gateway down. npm forwards the signal to the `sh -c` running the script,
// which dies without passing it on; the gateway (started with
// --exit-with-parent) sees it was re-parented and drains. Runs the real
// package.json start script through real npm, with the compiled test CLI in
// place of bin/turnpike.js (bin/ loads dist/, which may not be this build).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { childEnv, CLI, freePort, freePortRange, portIsFree, readyz, running, waitUntil, watchProcess, type GatewayProcess } from './fixtures/gateway-process.js';

const dir = mkdtempSync(join(tmpdir(), 'turnpike-e2eproc-npm-'));
let npm: GatewayProcess | null = null;

after(() => {
  npm?.killGroup();
  rmSync(dir, { recursive: true, force: true });
});

/** The `start` script of Turnpike's own package.json (found above this file). */
function startScript(): string {
  let at = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(at, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; scripts?: Record<string, string> };
      if (pkg.name === 'turnpike') return pkg.scripts?.start ?? '';
    }
    if (dirname(at) === at) throw new Error('package.json of turnpike not found');
    at = dirname(at);
  }
}

test('SIGTERM to `npm start` drains the gateway: its ports are freed and no process of it remains', async () => {
  const script = startScript();
  assert.match(script, /^node bin\/turnpike\.js start .*--demo.*--exit-with-parent/);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({
    name: 'turnpike-npm-start-test', version: '0.0.0', private: true,
    scripts: { start: script.replace('bin/turnpike.js', JSON.stringify(CLI)) },
  }));
  const port = await freePort();
  const adminPort = await freePort();
  const demoBase = await freePortRange(4);
  const config = join(dir, 'gateway.yaml');
  writeFileSync(config, [
    `server: { host: 127.0.0.1, port: ${port}, workers: 2, gracePeriod: 5s }`,
    `admin: { host: 127.0.0.1, port: ${adminPort} }`,
    'upstreams: { users: { targets: [ { url: "http://127.0.0.1:3001" } ] } }',
    'routes: [ { name: users, match: { path: "/users/*" }, upstream: users } ]',
    '',
  ].join('\n'));

  npm = watchProcess(spawn('npm', ['start', '--', '--config', config], {
    cwd: dir, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv({ TURNPIKE_DEMO_PORT_BASE: String(demoBase), npm_config_update_notifier: 'false', npm_config_fund: 'false' }),
  }));
  npm.adminPort = adminPort;
  const ready = await npm.waitForLine((l) => l.msg === 'ready', 30_000, 'the "ready" line');
  const primaryPid = ready.pid as number;
  assert.notEqual(primaryPid, npm.pid, 'npm runs the gateway as a child');
  const workerPids = (await readyz(npm)).body.workers.map((w) => w.pid);
  assert.equal(workerPids.length, 2);

  process.kill(npm.pid, 'SIGTERM');
  await npm.exited;
  const ports = [port, adminPort, demoBase, demoBase + 1, demoBase + 2, demoBase + 3];
  await waitUntil('the gateway and its workers are gone and their ports free', async () => {
    if ([primaryPid, ...workerPids].some(running)) return false;
    return (await Promise.all(ports.map(portIsFree))).every(Boolean);
  }, 5000);
  const stopped = await npm.waitForLine((l) => l.msg === 'stopped', 2000, 'the primary\'s "stopped" line');
  assert.equal(stopped.pid, primaryPid, 'the primary drained');
});
