import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import type { us_listen_socket } from 'uWebSockets.js';
import { findDefinedSymbol } from './elf-version-needs.js';
import { findRecvYieldSite, hasRecvYieldPatch, patchRecvYield, READ_LOOP_FUNCTION, RecvYieldPatchError } from './recv-yield-patch.js';
import { loadUws, uwsLoadInfo } from './uws-loader.js';

const run = promisify(execFile);
const pkgDir = dirname(createRequire(import.meta.url).resolve('uWebSockets.js'));
const LINUX_X64 = readdirSync(pkgDir).filter((f) => /^uws_linux_x64_\d+\.node$/.test(f)).sort();
const MiB = 1024 * 1024;
/** uSockets' LIBUS_RECV_BUFFER_LENGTH: the most one recv hands over. */
const RECV_BUFFER = 512 * 1024;

test('every bundled Linux x64 build has exactly one recv-length comparison, patched by one byte', () => {
  assert.ok(LINUX_X64.length >= 4, LINUX_X64.join(', '));
  for (const name of LINUX_X64) {
    const bin = readFileSync(join(pkgDir, name));
    const fn = findDefinedSymbol(bin, READ_LOOP_FUNCTION);
    assert.ok(fn !== null && fn.size > 0, name);
    const site = findRecvYieldSite(bin);
    assert.equal(site.patched, false, name);
    assert.ok(site.immediateOffset > fn.fileOffset && site.immediateOffset < fn.fileOffset + fn.size, name);
    assert.equal(bin.readUInt32LE(site.immediateOffset), 0x80000);

    const out = patchRecvYield(bin);
    assert.equal(out.changed, true);
    assert.equal(out.buffer.length, bin.length);
    const diff: number[] = [];
    for (let i = 0; i < bin.length; i++) if (bin[i] !== out.buffer[i]) diff.push(i);
    assert.deepEqual(diff, [site.immediateOffset], `${name}: only the immediate's low byte changes`);
    assert.equal(out.buffer.readUInt32LE(site.immediateOffset), 0x80001);
    assert.equal(hasRecvYieldPatch(out.buffer), true);
    assert.equal(hasRecvYieldPatch(bin), false);
    assert.equal(bin.readUInt32LE(site.immediateOffset), 0x80000, 'the input is not mutated');

    const again = patchRecvYield(out.buffer);
    assert.equal(again.changed, false, 'idempotent');
    assert.ok(again.buffer.equals(out.buffer));
  }
});

test('builds it does not recognise are refused with the reason', () => {
  const arm = readFileSync(join(pkgDir, 'uws_linux_arm64_115.node'));
  assert.throws(() => findRecvYieldSite(arm), (e: Error) => e instanceof RecvYieldPatchError && /only x86-64/.test(e.message));
  assert.throws(() => findRecvYieldSite(Buffer.from('not an elf at all')), /not an ELF file/);
  assert.equal(hasRecvYieldPatch(arm), false);

  // A second identical comparison inside the function makes the site ambiguous.
  const bin = readFileSync(join(pkgDir, LINUX_X64[0]));
  const fn = findDefinedSymbol(bin, READ_LOOP_FUNCTION)!;
  const site = findRecvYieldSite(bin);
  const twice = Buffer.from(bin);
  bin.copy(twice, fn.fileOffset, site.immediateOffset - 2, site.immediateOffset + 6);
  assert.throws(() => findRecvYieldSite(twice), /found 2/);
});

test('loadUws loads the recv-yield copy on Linux x64, and not when disabled', async () => {
  const root = mkdtempSync(join(tmpdir(), 'turnpike-recv-yield-'));
  try {
    const script = `const { loadUws, uwsLoadInfo } = await import(process.env.TP_LOADER_URL);
      loadUws({ cacheDir: process.env.TP_CACHE }); process.stdout.write(JSON.stringify(uwsLoadInfo()));`;
    const child = async (env: Record<string, string>): Promise<Record<string, unknown>> => {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
        env: { ...process.env, TP_LOADER_URL: new URL('./uws-loader.js', import.meta.url).href, TP_CACHE: join(root, 'c'), ...env },
        timeout: 20_000,
      });
      return JSON.parse(stdout) as Record<string, unknown>;
    };
    const on = await child({ TURNPIKE_UWS_RECV_YIELD: '' });
    const supported = process.platform === 'linux' && process.arch === 'x64';
    assert.equal(on.recvYield, supported, String(on.recvYieldError));
    if (supported) {
      assert.match(String(on.binaryPath), /\.recv-yield\.node$/);
      assert.equal(hasRecvYieldPatch(readFileSync(String(on.binaryPath))), true);
      assert.equal(on.recvYieldError, null);
    }
    const off = await child({ TURNPIKE_UWS_RECV_YIELD: '0' });
    assert.equal(off.recvYield, false);
    assert.match(String(off.recvYieldError), /disabled/);
    assert.doesNotMatch(String(off.binaryPath), /\.recv-yield\.node$/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('with the patch, pause() inside onData lets at most one recv buffer through before the loop yields', { timeout: 60_000 }, async (t) => {
  const uws = loadUws();
  const info = uwsLoadInfo()!;
  assert.equal(info.recvYield, process.platform === 'linux' && process.arch === 'x64', String(info.recvYieldError));
  const total = 256 * MiB;
  let worstBurst = 0; let pauses = 0; let received = 0;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolveDone) => { finish = resolveDone; });
  const app = uws.App().post('/*', (res) => {
    // A consumer that takes 1 MiB per 2 ms timer tick: much slower than a loopback sender.
    let held = 0; let paused = false; let burst = 0; let sameTurn = false;
    const drain = setInterval(() => {
      held = Math.max(0, held - MiB);
      if (paused && held === 0) { paused = false; res.resume(); }
    }, 2);
    res.onAborted(() => { clearInterval(drain); finish(); });
    res.onData((chunk, isLast) => {
      received += chunk.byteLength;
      held += chunk.byteLength;
      if (paused && sameTurn) { burst += chunk.byteLength; worstBurst = Math.max(worstBurst, burst); }
      if (!paused && held > MiB && !isLast) {
        paused = true; sameTurn = true; burst = 0; pauses++;
        res.pause();
        setImmediate(() => { sameTurn = false; });
      }
      if (isLast) {
        clearInterval(drain);
        res.cork(() => res.end('ok'));
        finish();
      }
    });
  });
  const ls = await new Promise<us_listen_socket>((resolveListen, reject) => {
    app.listen('127.0.0.1', 0, (s) => (s ? resolveListen(s) : reject(new Error('listen failed'))));
  });
  // The sender runs in its own process so it keeps sending while this loop is busy.
  const sender = spawn(process.execPath, ['-e', `
    const chunk = Buffer.alloc(256 * 1024, 1); let sent = 0;
    const body = new ReadableStream({ pull(c) { if (sent >= ${total}) return c.close(); sent += chunk.length; c.enqueue(new Uint8Array(chunk)); } });
    fetch('http://127.0.0.1:${uws.us_socket_local_port(ls)}/', { method: 'POST', body, duplex: 'half' })
      .then((r) => r.text()).then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
  `], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<number | null>((r) => sender.once('exit', r));
  try {
    await done;
    assert.equal(await exited, 0, 'the sender got its answer');
  } finally {
    sender.kill();
    uws.us_listen_socket_close(ls);
    app.close();
  }
  t.diagnostic(`pauses ${pauses}, worst burst after pause() ${(worstBurst / 1024).toFixed(0)} KiB`);
  assert.equal(received, total);
  assert.ok(pauses > 10, `the consumer paused the socket (${pauses} times)`);
  if (info.recvYield) assert.ok(worstBurst <= RECV_BUFFER, `${worstBurst} bytes arrived after pause() in the same loop turn`);
});
