import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { compareGlibcVersions, parseGlibcVersion } from './elf-glibc-compat.js';
import { glibcRuntimeVersion, isGlibcVersionError, loadUws, uwsLoadInfo } from './uws-loader.js';
import type { UwsLoadInfo } from './uws-loader.js';
import type { us_listen_socket } from 'uWebSockets.js';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'turnpike-uws-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

// A .node addon can be dlopen'ed only once per process, so cache behaviour is tested in fresh child processes.
const CHILD = `
const { loadUws, uwsLoadInfo } = await import(process.env.TP_LOADER_URL);
try {
  const uws = loadUws(JSON.parse(process.env.TP_LOADER_OPTS));
  process.stdout.write(JSON.stringify({ ok: true, info: uwsLoadInfo(), app: typeof uws.App }));
} catch (err) {
  process.stdout.write(JSON.stringify({ ok: false, name: err.name, message: err.message }));
}`;

interface ChildResult { ok: boolean; info?: UwsLoadInfo; app?: string; name?: string; message?: string }

async function child(opts: object, env: Record<string, string> = {}): Promise<ChildResult> {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD], {
    env: { ...process.env, ...env, TP_LOADER_URL: new URL('./uws-loader.js', import.meta.url).href, TP_LOADER_OPTS: JSON.stringify(opts) },
    timeout: 20_000,
  });
  return JSON.parse(stdout) as ChildResult;
}

function cacheFiles(dir: string): { node: string; sidecar: string } {
  const names = readdirSync(dir).sort();
  assert.equal(names.length, 2, `exactly a binary and its sidecar, no temp files: ${names.join(', ')}`);
  assert.match(names[0], /^uws_linux_\w+_\d+\.[0-9a-f]{16}\.glibc-compat(\.recv-yield)?\.node$/);
  return { node: join(dir, names[0]), sidecar: join(dir, names[1]) };
}

function expectedMode(): UwsLoadInfo['mode'] {
  const glibc = glibcRuntimeVersion();
  const v = glibc === null ? null : parseGlibcVersion(glibc);
  return v !== null && compareGlibcVersions(v, [2, 38]) < 0 ? 'glibc-compat' : 'official';
}

test('isGlibcVersionError matches only the dynamic loader glibc version failure', () => {
  assert.equal(isGlibcVersionError(new Error("/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.38' not found (required by /x/uws.node)")), true);
  assert.equal(isGlibcVersionError(new Error('Cannot find module /x/uws.node')), false);
  assert.equal(isGlibcVersionError(new Error('libstdc++.so.6: version `GLIBCXX_3.4.32\' not found')), false);
  assert.equal(isGlibcVersionError("version `GLIBC_2.38' not found"), false);
});

test('loadUws loads a working uWS in-process: App listens on 127.0.0.1:0 and serves GET', async () => {
  const cacheDir = join(root, 'in-process');
  const uws = loadUws({ cacheDir });
  assert.equal(loadUws(), uws, 'second call returns the same module');
  const info = uwsLoadInfo();
  assert.equal(info?.mode, expectedMode());
  assert.equal(info?.abi, process.versions.modules);
  if (info?.mode === 'glibc-compat') {
    assert.equal(info.binaryPath, cacheFiles(cacheDir).node);
    assert.match(info.officialError ?? '', /GLIBC_2\.38' not found/);
  }
  const app = uws.App().get('/*', (res, req) => {
    res.writeHeader('content-type', 'text/plain').end(`hello ${req.getUrl()}`);
  });
  const listenSocket = await new Promise<us_listen_socket>((resolvePromise, reject) => {
    app.listen('127.0.0.1', 0, (ls) => (ls ? resolvePromise(ls) : reject(new Error('listen failed'))));
  });
  try {
    const port = uws.us_socket_local_port(listenSocket);
    assert.ok(port > 0);
    const res = await fetch(`http://127.0.0.1:${port}/ping`, { headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), 'hello /ping');
  } finally {
    uws.us_listen_socket_close(listenSocket);
    app.close();
  }
});

test('the compat copy is created once, then reused from the cache unchanged', async () => {
  const cacheDir = join(root, 'reuse');
  const first = await child({ cacheDir, forceCompat: true });
  assert.equal(first.ok, true, first.message);
  assert.equal(first.app, 'function');
  assert.equal(first.info?.mode, 'glibc-compat');
  assert.equal(first.info?.cacheHit, false);
  const { node, sidecar } = cacheFiles(cacheDir);
  assert.equal(first.info?.binaryPath, node);
  const meta = JSON.parse(readFileSync(sidecar, 'utf8')) as { sourceSha256: string; patchedSha256: string };
  assert.ok(node.includes(meta.sourceSha256.slice(0, 16)), 'file name carries the source hash');
  const mtime = statSync(node).mtimeMs;

  const second = await child({ cacheDir, forceCompat: true });
  assert.equal(second.ok, true, second.message);
  assert.equal(second.info?.cacheHit, true);
  assert.equal(statSync(node).mtimeMs, mtime, 'cached binary not rewritten');
  assert.deepEqual(cacheFiles(cacheDir), { node, sidecar });
});

test('a cached copy whose hash does not match its sidecar is regenerated', async () => {
  const cacheDir = join(root, 'corrupt');
  assert.equal((await child({ cacheDir, forceCompat: true })).ok, true);
  const { node, sidecar } = cacheFiles(cacheDir);
  const good = readFileSync(node);

  const damaged = Buffer.from(good);
  damaged[damaged.length - 100] ^= 0xff;
  writeFileSync(node, damaged);
  const afterDamage = await child({ cacheDir, forceCompat: true });
  assert.equal(afterDamage.ok, true, afterDamage.message);
  assert.equal(afterDamage.info?.cacheHit, false);
  assert.ok(readFileSync(node).equals(good), 'binary regenerated byte for byte');

  const meta = JSON.parse(readFileSync(sidecar, 'utf8')) as Record<string, string>;
  writeFileSync(sidecar, JSON.stringify({ ...meta, patchedSha256: '0'.repeat(64) }));
  const afterSidecar = await child({ cacheDir, forceCompat: true });
  assert.equal(afterSidecar.info?.cacheHit, false);
  assert.equal((JSON.parse(readFileSync(sidecar, 'utf8')) as Record<string, string>).patchedSha256, meta.patchedSha256);
  assert.equal((await child({ cacheDir, forceCompat: true })).info?.cacheHit, true);
});

test('racing workers on an empty cache all load and leave one complete copy', async () => {
  const cacheDir = join(root, 'race');
  const results = await Promise.all([1, 2, 3, 4].map(() => child({ cacheDir, forceCompat: true })));
  for (const r of results) assert.equal(r.ok, true, r.message);
  const { node, sidecar } = cacheFiles(cacheDir);
  const meta = JSON.parse(readFileSync(sidecar, 'utf8')) as { patchedSha256: string };
  assert.equal(createHash('sha256').update(readFileSync(node)).digest('hex'), meta.patchedSha256);
  assert.ok(results.every((r) => r.info?.binaryPath === node));
  assert.equal((await child({ cacheDir, forceCompat: true })).info?.cacheHit, true);
});

test('TURNPIKE_UWS_CACHE_DIR chooses the cache directory when no option is given', async () => {
  const envDir = join(root, 'from-env');
  const r = await child({ forceCompat: true }, { TURNPIKE_UWS_CACHE_DIR: envDir });
  assert.equal(r.ok, true, r.message);
  assert.equal(r.info?.binaryPath, cacheFiles(envDir).node);
});

test('a missing binary fails with the platform and the fix named', async () => {
  const emptyPkg = join(root, 'empty-package');
  const r = await child({ packageDir: emptyPkg, cacheDir: join(root, 'unused') });
  assert.equal(r.ok, false);
  assert.equal(r.name, 'UwsLoadError');
  const msg = r.message ?? '';
  assert.match(msg, new RegExp(`uws_${process.platform}_${process.arch}_${process.versions.modules}\\.node`));
  assert.match(msg, new RegExp(`platform=${process.platform} arch=${process.arch} node=${process.version.replace(/\./g, '\\.')} abi=${process.versions.modules} glibc=`));
  assert.match(msg, /glibc 2\.38 or newer \(e\.g\. Debian 13, Ubuntu 24\.04\) or use the project's Docker image/);
  assert.equal(existsSync(join(root, 'unused')), false);
});
