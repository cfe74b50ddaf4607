import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCliToEnd } from './fixtures/gateway-process.js';

// The bundled demo config (repo root/config/gateway.yaml), seen from dist/ or a .cache build.
const DEMO = fileURLToPath(new URL('../../../config/gateway.yaml', import.meta.url));

test('turnpike explain names the winning route, the rule that decided, and each rejection', async () => {
  const r = await runCliToEnd(['explain', '--config', DEMO, 'GET', '/orders/7', '-H', 'x-beta:1']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Result: route orders-beta/);
  assert.match(r.stdout, /more predicates win \(1 vs 0\)/);
  assert.match(r.stdout, /rejected\s+#0 list-users.*\n\s+- path \/users: segment 1: expected "users", got "orders"/);
});

test('turnpike explain reports a 405 and a 404 without a server', async () => {
  const notAllowed = await runCliToEnd(['explain', '--config', DEMO, 'DELETE', '/users/42']);
  assert.equal(notAllowed.code, 0, notAllowed.stderr);
  assert.match(notAllowed.stdout, /405|method not allowed/i);
  const none = await runCliToEnd(['explain', '--config', DEMO, 'GET', '/nowhere']);
  assert.match(none.stdout, /404|no route/i);
});

test('turnpike routes prints the compiled table in precedence order', async () => {
  const r = await runCliToEnd(['routes', '--config', DEMO]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0], /RANK\s+NAME/);
  // The header-predicate route outranks the plain canary on the same path.
  assert.ok(lines.findIndex((l) => l.includes('orders-beta')) < lines.findIndex((l) => l.includes('orders-canary')));
  assert.match(r.stdout, /split\[orders-v1 90\/100, orders-v2 10\/100\] sticky header:x-user-id/);
});

test('turnpike explain with a malformed header flag exits 2 with usage', async () => {
  const r = await runCliToEnd(['explain', '--config', DEMO, 'GET', '/x', '-H', 'novalue']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /must look like name:value/);
});

/** The version in Turnpike's package.json, found above this file. */
function ownVersion(): string {
  for (let at = dirname(fileURLToPath(import.meta.url)); dirname(at) !== at; at = dirname(at)) {
    const file = join(at, 'package.json');
    if (!existsSync(file)) continue;
    const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
    if (pkg.name === 'turnpike' && pkg.version !== undefined) return pkg.version;
  }
  throw new Error('package.json of turnpike not found');
}

test('turnpike --version and -v print the package version and exit 0', async () => {
  for (const flag of ['--version', '-v']) {
    const r = await runCliToEnd([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `turnpike ${ownVersion()}\n`);
    assert.equal(r.stderr, '');
  }
});

test('turnpike --help prints the usage with the start options and exits 0; no command exits 2', async () => {
  const r = await runCliToEnd(['--help']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Usage: turnpike <command> \[options\]\n\s+turnpike --version \| --help/);
  assert.match(r.stdout, /--exit-with-parent/);
  assert.match(r.stdout, /TURNPIKE_DEMO_PORT_BASE/);
  const none = await runCliToEnd([]);
  assert.equal(none.code, 2);
  assert.match(none.stdout, /^Usage: turnpike/);
});
