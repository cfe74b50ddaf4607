// `turnpike config push|diff` against a real etcd.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { startEtcd, type TestEtcd } from '../fixtures/etcd-server.js';
import { runCliToEnd } from './fixtures/gateway-process.js';

const PREFIX = '/turnpike/cli';
let etcd: TestEtcd;
let client: Etcd3;
let dir: string;

const GOOD = 'upstreams:\n  a: { targets: [ { url: "http://127.0.0.1:9" } ] }\nroutes:\n  - name: svc\n    match: { path: "/svc/*" }\n    upstream: a\n';
const OTHER = GOOD.replace('/svc/*', '/other/*');
const INVALID = GOOD.replace('upstream: a', 'upstream: missing');

before(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoint });
  dir = mkdtempSync(join(tmpdir(), 'turnpike-config-cli-'));
});

after(async () => {
  client.close();
  await etcd.close();
  rmSync(dir, { recursive: true, force: true });
});

function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runCliToEnd(['config', ...args], 15_000, env);
}

test('config push refuses an invalid file with file:line messages and writes nothing', async () => {
  const bad = file('bad.yaml', INVALID);
  const r = await cli(['push', '--config', bad, '--etcd', etcd.endpoint, '--prefix', PREFIX]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`${bad.replace(/[.]/g, '\\.')}:6:\\d+: routes\\[0\\]\\.upstream: `));
  assert.equal(await client.get(`${PREFIX}/config`).string(), null, 'nothing was written');
});

test('config push writes the file as one key and prints the revision; an unchanged file is not rewritten', async () => {
  const good = file('good.yaml', GOOD);
  const r = await cli(['push', '--config', good, '--etcd', etcd.endpoint, '--prefix', `${PREFIX}/`]);
  assert.equal(r.code, 0, r.stderr);
  const m = /revision (\d+)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  const res = await client.get(`${PREFIX}/config`).exec();
  assert.equal(res.kvs[0].value.toString(), GOOD);
  assert.equal(Number(res.kvs[0].mod_revision), Number(m[1]));
  const again = await cli(['push', '--config', good, '--etcd', etcd.endpoint, '--prefix', PREFIX]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`unchanged \\(revision ${m[1]}\\)`));
});

test('config push --if-revision writes only over that revision', async () => {
  const current = Number((await client.get(`${PREFIX}/config`).exec()).kvs[0].mod_revision);
  const other = file('other.yaml', OTHER);
  const stale = await cli(['push', '--config', other, '--etcd', etcd.endpoint, '--prefix', PREFIX, '--if-revision', String(current - 1)]);
  assert.equal(stale.code, 1);
  assert.match(stale.stderr, new RegExp(`not written: .* is at revision ${current}, not ${current - 1}`));
  assert.equal(await client.get(`${PREFIX}/config`).string(), GOOD);
  const ok = await cli(['push', '--config', other, '--etcd', etcd.endpoint, '--prefix', PREFIX, '--if-revision', String(current)]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(await client.get(`${PREFIX}/config`).string(), OTHER);
});

test('config diff: exit 0 and no output when the same, 1 and a unified diff when different', async () => {
  // Endpoints and prefix from TURNPIKE_CONFIG_SOURCE this time.
  const env = { TURNPIKE_CONFIG_SOURCE: `etcd://127.0.0.1:${etcd.clientPort}${PREFIX}` };
  const same = await cli(['diff', '--config', file('same.yaml', OTHER)], env);
  assert.equal(same.code, 0, same.stderr);
  assert.equal(same.stdout, '');
  const changed = file('changed.yaml', GOOD);
  const diff = await cli(['diff', '--config', changed], env);
  assert.equal(diff.code, 1, diff.stderr);
  assert.match(diff.stdout, new RegExp(`^--- etcd://127\\.0\\.0\\.1:${etcd.clientPort}${PREFIX}/config@rev\\d+\\n\\+\\+\\+ ${changed}\\n`));
  assert.match(diff.stdout, /^-    match: \{ path: "\/other\/\*" \}$/m);
  assert.match(diff.stdout, /^\+    match: \{ path: "\/svc\/\*" \}$/m);
});

test('config without a prefix, or with etcd down, fails with exit 2 and a reason', async () => {
  const good = file('good2.yaml', GOOD);
  const noPrefix = await cli(['push', '--config', good, '--etcd', etcd.endpoint]);
  assert.equal(noPrefix.code, 2);
  assert.match(noPrefix.stderr, /--prefix is required/);
  await etcd.stop();
  try {
    const down = await cli(['diff', '--config', good, '--etcd', etcd.endpoint, '--prefix', PREFIX]);
    assert.equal(down.code, 2);
    assert.match(down.stderr, new RegExp(`etcd at ${etcd.endpoint}`));
  } finally {
    await etcd.start();
  }
});

test('turnpike start with a malformed TURNPIKE_CONFIG_SOURCE exits 1 saying what is expected', async () => {
  const r = await runCliToEnd(['start'], 15_000, { TURNPIKE_CONFIG_SOURCE: 'etcd:/127.0.0.1/x' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /TURNPIKE_CONFIG_SOURCE: "etcd:\/127\.0\.0\.1\/x" is not an etcd URL \(expected etcd:\/\/host:port\[,host:port\]\/prefix\) \(or "file"\)/);
});
