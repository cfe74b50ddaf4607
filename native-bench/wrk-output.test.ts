import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { parseWrkOutput, parseWrkTime } from './wrk-output.js';
import { luaString, postBodyLua, rotatingGetsLua } from './wrk-scripts.js';
import { wrkArgs, type LoadOptions } from './bench-run.js';
import { runToEnd } from './bench-procs.js';
import { largeBodyPayload } from './bench-scenarios.js';

// Real wrk 4.1.0 output (Debian), against a server answering 404.
const WITH_ERRORS = `Running 1s test @ http://127.0.0.1:39073/nonexistent
  1 threads and 5 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.80ms    8.09ms  61.90ms   90.19%
    Req/Sec     0.93k   452.69     1.51k    60.00%
  Latency Distribution
     50%    3.76ms
     75%    8.22ms
     90%   14.53ms
     99%   45.97ms
  930 requests in 1.03s, 472.45KB read
  Socket errors: connect 0, read 2, write 0, timeout 7
  Non-2xx or 3xx responses: 930
Requests/sec:    903.69
Transfer/sec:    459.08KB
`;

test('parseWrkTime converts every wrk unit to microseconds', () => {
  assert.equal(parseWrkTime('514.00us'), 514);
  assert.equal(parseWrkTime('1.02ms'), 1020);
  assert.equal(parseWrkTime('2.50s'), 2.5e6);
  assert.equal(parseWrkTime('1.00m'), 60e6);
  assert.throws(() => parseWrkTime('fast'), /not a wrk time/);
});

test('parseWrkOutput reads counts, percentiles and error lines', () => {
  const r = parseWrkOutput(WITH_ERRORS);
  assert.equal(r.requests, 930);
  assert.equal(r.durationS, 1.03);
  assert.equal(r.rps, 903.69);
  assert.equal(r.latencyAvgUs, 6800);
  assert.equal(r.latencyMaxUs, 61900);
  assert.deepEqual([r.p50Us, r.p75Us, r.p90Us, r.p99Us], [3760, 8220, 14530, 45970]);
  assert.deepEqual(r.errors, { connect: 0, read: 2, write: 0, timeout: 7, non2xx: 930 });
});

test('parseWrkOutput treats absent error lines as zero', () => {
  const clean = WITH_ERRORS.replace(/ {2}Socket errors.*\n/, '').replace(/ {2}Non-2xx.*\n/, '');
  assert.deepEqual(parseWrkOutput(clean).errors, { connect: 0, read: 0, write: 0, timeout: 0, non2xx: 0 });
});

test('parseWrkOutput rejects output without --latency or without a summary', () => {
  assert.throws(() => parseWrkOutput(WITH_ERRORS.replace(/ {5}99%.*\n/, '')), /99% latency/);
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /request count/);
});

/** What a recording server saw: method, URL and body length of each request, in order. */
interface Seen { method: string; url: string; bytes: number; body: Buffer }

/** Runs wrk with `lua` for 1 s, 1 connection, against a server that records every request. */
async function wrkWithScript(lua: string): Promise<{ seen: Seen[]; output: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'wrk-script-'));
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      if (seen.length < 50) seen.push({ method: req.method ?? '', url: req.url ?? '', bytes: body.length, body });
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const file = join(dir, 'script.lua');
    writeFileSync(file, lua);
    const load: LoadOptions = { connections: 1, threads: 1, durationS: 1, warmupS: 0, clkTck: 100 };
    const port = (server.address() as AddressInfo).port;
    const r = await runToEnd('wrk', wrkArgs(port, '/', load, 1, file));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return { seen, output: r.stdout };
  } finally {
    server.closeAllConnections();
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

test('wrkArgs puts -s script before the URL', () => {
  const load: LoadOptions = { connections: 8, threads: 1, durationS: 5, warmupS: 0, clkTck: 100 };
  assert.deepEqual(wrkArgs(80, '/x', load, 5, '/tmp/a.lua'), ['-t1', '-c8', '-d5s', '--latency', '-s', '/tmp/a.lua', 'http://127.0.0.1:80/x']);
  assert.deepEqual(wrkArgs(80, '/x', load, 5), ['-t1', '-c8', '-d5s', '--latency', 'http://127.0.0.1:80/x']);
});

test('luaString escapes quotes, backslashes and newlines', () => {
  assert.equal(luaString('a"b\\c\nd'), '"a\\"b\\\\c\\nd"');
});

test('rotatingGetsLua makes wrk GET the paths in order, round and round', async () => {
  const paths = ['/v1/health', '/v1/users/7/items/3', '/docs/guide/intro.html', '/v1/users/search?q=x'];
  const { seen, output } = await wrkWithScript(rotatingGetsLua(paths));
  assert.ok(parseWrkOutput(output).requests >= 8, output);
  // wrk calls thread 0's request() once to verify the script before the run
  // (script_verify_request), so the rotation may start at any path.
  const k = paths.indexOf(seen[0].url);
  assert.ok(k >= 0, seen[0].url);
  const want = Array.from({ length: 8 }, (_, i) => paths[(k + i) % paths.length]);
  assert.deepEqual(seen.slice(0, 8).map((s) => s.url), want);
  assert.ok(seen.every((s) => s.method === 'GET' && s.bytes === 0));
});

test('postBodyLua makes wrk POST the load test\'s body', async () => {
  const { seen } = await wrkWithScript(postBodyLua(100_003));
  assert.ok(seen.length >= 2);
  const want = largeBodyPayload(100_003);
  for (const s of seen) {
    assert.equal(s.method, 'POST');
    assert.equal(s.bytes, want.length);
    assert.ok(s.body.equals(want), 'body differs from largeBodyPayload()');
  }
});
