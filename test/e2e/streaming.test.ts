import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const MiB = 1024 * 1024;
// why: 1 GiB each way is the claim; it takes a few seconds on loopback.
const TOTAL = 1024 * MiB;
/**
 * A tight backlog cap (the default is 64 MiB): an honest client through a
 * healthy upstream must never reach it, because the gateway stops reading
 * the client while the upstream is not accepting.
 */
const BACKLOG_CAP_MIB = 16;

/**
 * Memory bounds. Live buffer memory (sampled after a forced GC, see
 * GATEWAY_FLAGS) is what the gateway really holds. RSS may rise once by what glibc's malloc keeps cached
 * after freeing large chunks, but must not keep growing with the bytes moved.
 */
const MAX_LIVE_BUFFERS_MIB = 48;
const MAX_RSS_GROWTH_MIB = 192;
/**
 * An upload holds at most the body stream's 256 KiB high-water mark plus one
 * 512 KiB recv buffer (uWS read loop patched to yield, src/platform/recv-yield-patch.ts);
 * before that patch a 1 GiB upload could hold 850 MiB.
 */
const MAX_UPLOAD_LIVE_BUFFERS_MIB = 8;
const MAX_UPLOAD_RSS_GROWTH_MIB = 96;

const CORK_WARNING = 'corked callback';
/** Per fixture process: how many uWS uncorked-write warnings it printed. */
const corkWarnings = new Map<ChildProcess, number>();

/**
 * Node flags of the gateway child. why: V8 frees the memory of dead
 * ArrayBuffers on a background thread some time after a GC, so a sample taken
 * right after gc() could count up to ~30 MiB of chunks already consumed;
 * sweeping on the main thread makes `ab` the buffers really held.
 */
const GATEWAY_FLAGS = ['--expose-gc', '--no-concurrent-array-buffer-sweeping'];

/** Spawns a fixture process and resolves with its port; later stdout lines go to `onLine`. */
function spawnFixture(file: string, args: string[], onLine?: (line: string) => void, flags: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  const child = spawn(process.execPath, [...flags, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Passed through, and uWS's "writes must be made from within a corked callback" lines counted.
  child.stderr!.on('data', (b: Buffer) => {
    process.stderr.write(b);
    const text = b.toString('latin1');
    for (let i = text.indexOf(CORK_WARNING); i >= 0; i = text.indexOf(CORK_WARNING, i + 1)) corkWarnings.set(child, (corkWarnings.get(child) ?? 0) + 1);
  });
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    let started = false;
    // Other JSON lines (the worker's log lines) go to `onLine` too, which ignores them.
    lines.on('line', (l) => {
      if (started) { onLine?.(l); return; }
      const port = (JSON.parse(l) as { port?: number }).port;
      if (typeof port === 'number') { started = true; resolve({ child, port }); }
    });
    child.once('exit', (code) => reject(new Error(`${file} exited ${code}`)));
  });
}

/** The gateway child's samples: peak RSS and peak live ArrayBuffer MiB since `reset`. */
class MemoryWatch {
  peakRss = 0; peakAb = 0; lastRss = 0;
  feed = (line: string): void => {
    const m = JSON.parse(line) as { rss?: number; ab: number };
    if (m.rss === undefined) return;
    this.lastRss = m.rss;
    this.peakRss = Math.max(this.peakRss, m.rss);
    this.peakAb = Math.max(this.peakAb, m.ab);
  };
  reset(): void { this.peakRss = this.lastRss; this.peakAb = 0; }
}

/** What an upload saw: the status and body of the answer, and the sender's own count and hash. */
interface UploadResult { status: number; body: string; sent: number; sha256: string; sendMs: number; totalMs: number; error: string }

// why: one random block, sliced at varying offsets, gives distinct chunks
// (reordering or loss changes the hash) without generating 1 GiB of data.
const BLOCK = randomBytes(MiB + 256 * 1024);
const UP_CHUNK = 256 * 1024;

/**
 * POSTs `total` bytes with fetch and a ReadableStream body (duplex: 'half'),
 * as fast as fetch takes them: no pacing. A network error is returned in
 * `error` (status 0) rather than thrown.
 */
async function upload(port: number, path: string, total: number): Promise<UploadResult> {
  const hash = createHash('sha256');
  let sent = 0; let i = 0; let sendMs = 0;
  const started = performance.now();
  const body = new ReadableStream<Uint8Array>({
    pull(ctl) {
      if (sent >= total) { sendMs = performance.now() - started; ctl.close(); return; }
      const off = (i++ * 40_503 * 64) % MiB;
      const chunk = BLOCK.subarray(off, off + Math.min(UP_CHUNK, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      ctl.enqueue(chunk);
    },
  });
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body, duplex: 'half' } as RequestInit);
    const text = await res.text();
    return { status: res.status, body: text, sent, sha256: hash.digest('hex'), sendMs, totalMs: performance.now() - started, error: '' };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const error = cause?.code ?? cause?.message ?? String(err);
    return { status: 0, body: '', sent, sha256: '', sendMs, totalMs: performance.now() - started, error };
  }
}

function download(port: number, variant: string): Promise<number> {
  return new Promise((resolve, reject) => {
    httpRequest({ host: '127.0.0.1', port, path: `/download/${variant}?bytes=${TOTAL}`, agent: false }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => { n += c.length; });
      res.on('end', () => resolve(n));
      res.on('error', reject);
    }).on('error', reject).end();
  });
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 300));

describe('streaming 1 GiB through a gateway process with bounded memory', () => {
  let upstream: ChildProcess; let gateway: ChildProcess; let port = 0;
  const watch = new MemoryWatch();

  before(async () => {
    const up = await spawnFixture('stream-upstream.js', []);
    upstream = up.child;
    const gw = await spawnFixture('gateway-child.js', [`
server: { maxBodySize: 0, maxBodyBacklog: ${BACKLOG_CAP_MIB}mb }
upstreams: { s: { targets: [ { url: "http://127.0.0.1:${up.port}" } ] } }
routes:
  - { name: stall, match: { path: /stall-upload }, upstream: s, timeout: { headers: 2s, request: 120s } }
  - { name: s, match: { path: /* }, upstream: s, timeout: 120s }
`], watch.feed, GATEWAY_FLAGS);
    gateway = gw.child;
    port = gw.port;
    await settle();
  });
  after(() => { gateway?.kill('SIGKILL'); upstream?.kill('SIGKILL'); });

  function checkMemory(what: string, baseline: number): void {
    assert.ok(watch.peakAb < MAX_LIVE_BUFFERS_MIB, `${what}: gateway held ${watch.peakAb.toFixed(1)} MiB of buffers`);
    const growth = watch.peakRss - baseline;
    assert.ok(growth < MAX_RSS_GROWTH_MIB, `${what}: gateway RSS grew ${growth.toFixed(0)} MiB over ${baseline.toFixed(0)} MiB`);
  }

  for (const variant of ['content-length', 'chunked']) {
    test(`1 GiB download (${variant}) with flat gateway memory`, async () => {
      const baseline = watch.lastRss;
      watch.reset();
      assert.equal(await download(port, variant), TOTAL);
      await settle();
      checkMemory('download ' + variant, baseline);
    });
  }

  for (const [label, total] of [['200 MiB', 200 * MiB], ['1 GiB', TOTAL]] as const) {
    test(`unpaced ${label} upload (fetch, ReadableStream) passes intact with flat gateway memory`, async (t) => {
      const baseline = watch.lastRss;
      watch.reset();
      const res = await upload(port, '/upload', total);
      await settle();
      const growth = watch.peakRss - baseline;
      t.diagnostic(`${label}: ${(res.totalMs / 1000).toFixed(1)} s, gateway RSS ${baseline.toFixed(0)} -> peak ${watch.peakRss.toFixed(0)} MiB, peak live buffers ${watch.peakAb.toFixed(1)} MiB`);
      assert.equal(res.status, 200, res.error || res.body);
      const got = JSON.parse(res.body) as { received: number; sha256: string };
      assert.equal(res.sent, total);
      assert.equal(got.received, total);
      assert.equal(got.sha256, res.sha256, 'the upstream received exactly the bytes sent, in order');
      assert.ok(watch.peakAb < MAX_UPLOAD_LIVE_BUFFERS_MIB, `gateway held ${watch.peakAb.toFixed(1)} MiB of buffers`);
      assert.ok(growth < MAX_UPLOAD_RSS_GROWTH_MIB, `gateway RSS grew ${growth.toFixed(0)} MiB over ${baseline.toFixed(0)} MiB`);
    });
  }

  test('an unpaced upload to a slow upstream is paused by the gateway, not answered 503', async (t) => {
    // The upstream reads at most ~50 MiB/s; 10x the backlog cap is sent as fast
    // as loopback allows. Socket buffers along the path hold a few tens of MiB;
    // the rest can only wait in the client, so a 200 proves the gateway
    // stopped reading instead of buffering past the cap.
    const total = BACKLOG_CAP_MIB * 10 * MiB;
    const baseline = watch.lastRss;
    watch.reset();
    const res = await upload(port, '/slow-upload', total);
    await settle();
    t.diagnostic(`slow upstream: client done sending after ${(res.sendMs / 1000).toFixed(1)} s, answered after ${(res.totalMs / 1000).toFixed(1)} s, peak live buffers ${watch.peakAb.toFixed(1)} MiB`);
    assert.equal(res.status, 200, res.error || res.body);
    const got = JSON.parse(res.body) as { received: number; sha256: string };
    assert.equal(got.received, total);
    assert.equal(got.sha256, res.sha256);
    assert.ok(watch.peakAb < MAX_UPLOAD_LIVE_BUFFERS_MIB, `gateway held ${watch.peakAb.toFixed(1)} MiB of buffers`);
    assert.ok(watch.peakRss - baseline < MAX_UPLOAD_RSS_GROWTH_MIB, `gateway RSS grew ${(watch.peakRss - baseline).toFixed(0)} MiB`);
  });

  test('an upstream that dies mid-upload: the client gets a 502 or a closed connection, and the gateway keeps serving', async (t) => {
    const res = await upload(port, `/fail-upload?after=${32 * MiB}`, 256 * MiB);
    t.diagnostic(`upstream died after 32 MiB: status ${res.status} ${res.error} after ${(res.totalMs / 1000).toFixed(1)} s, client had sent ${(res.sent / MiB).toFixed(0)} MiB`);
    if (res.status !== 0) {
      assert.equal(res.status, 502, res.body);
      assert.equal((JSON.parse(res.body) as { code: string }).code.startsWith('upstream_'), true, res.body);
    } else {
      assert.match(res.error, /ECONNRESET|EPIPE|UND_ERR_SOCKET|other side closed/);
    }
    assert.ok(res.sent < 256 * MiB, 'the client was stopped, not drained to the end');
    assert.equal(gateway.exitCode, null, 'the gateway process is alive');
    const after = await upload(port, '/upload', 8 * MiB);
    assert.equal(after.status, 200, after.error || after.body);
    assert.equal((JSON.parse(after.body) as { sha256: string }).sha256, after.sha256);
  });

  test('an upstream that stops reading mid-upload: the paused client gets a 504 at the route deadline', async (t) => {
    const res = await upload(port, `/stall-upload?after=${16 * MiB}`, 256 * MiB);
    t.diagnostic(`upstream stalled after 16 MiB: status ${res.status} ${res.error} after ${(res.totalMs / 1000).toFixed(1)} s, client had sent ${(res.sent / MiB).toFixed(0)} MiB`);
    if (res.status !== 0) {
      assert.equal(res.status, 504, res.body);
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'upstream_timeout', res.body);
    } else {
      assert.match(res.error, /ECONNRESET|EPIPE|UND_ERR_SOCKET|other side closed/);
    }
    // The stall check runs every `headers` (2 s): a stall is caught within two periods.
    assert.ok(res.totalMs < 10_000, 'answered within two 2 s headers periods of the stall, not left hanging');
    assert.ok(res.sent < 256 * MiB, 'the client was held back while the upstream stalled');
    assert.equal(gateway.exitCode, null, 'the gateway process is alive');
  });

  test('the gateway wrote every streamed chunk inside a cork (uWS printed no warning)', () => {
    assert.equal(corkWarnings.get(gateway) ?? 0, 0);
  });
});
