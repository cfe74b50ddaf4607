#!/usr/bin/env node
// Runs the compiled test files under dist/, one child process per file
// (node's own test runner, TAP), and prints a summary: counts, the files
// that failed or hung, and the slowest files.
//
// Most files spend their time waiting on sockets, timers and child
// processes, so they run TURNPIKE_TEST_JOBS at a time (default 3). The
// files that load the machine on purpose (load tests, proxy benches, the
// 1 GiB stream, multi-process clusters) and the few that assert wall-clock
// timing run afterwards, one at a time, with the machine to themselves.
//
// why our own runner: Node 20's `node --test` does not expand glob
// patterns (Node 21+ does), and its --test-concurrency gives no say over
// which files may share the machine.
//
//   node scripts/run-tests.mjs [substring ...]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

/** Files that run alone, after the others (substrings of their dist/ paths). */
const ALONE = [
  'dist/loadtest/scenario-smoke.test', 'dist/loadtest/open-loop', 'dist/loadtest/cpu-accounting', 'dist/loadtest/websocket/',
  'dist/native-bench/proxy-bench-smoke', 'dist/native-bench/micro/', 'dist/native-bench/syscall', 'dist/native-bench/proc-stat',
  'e2e/streaming', 'e2e-process/rate-limit-cluster', 'e2e-process/dashboard',
  'e2e-process/config-etcd.test', 'e2e-process/reload', 'e2e-process/drain',
  'e2e/timeouts', 'e2e/circuit-breaker', 'e2e/upstream-limits', 'e2e/retries', 'e2e/cache-coalescing',
  'e2e/forwarding-errors', 'e2e/aggregate.test', 'e2e/websocket-backpressure', 'e2e/websocket-close',
  'e2e/websocket-drain', 'e2e/policy-oauth2-introspection', 'process/primary-',
];
/** A file still running after this long is killed and counts as failed. */
const FILE_TIMEOUT_MS = Number(process.env.TURNPIKE_TEST_FILE_TIMEOUT_MS ?? 120_000);

function collect(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

const filter = process.argv.slice(2);
let files = collect('dist', []).sort();
if (filter.length) files = files.filter((f) => filter.some((x) => f.includes(x)));
if (files.length === 0) { console.error('no test files found under dist/'); process.exit(1); }
const jobs = Math.max(1, Number(process.env.TURNPIKE_TEST_JOBS ?? 3) || 3);
const alone = files.filter((f) => ALONE.some((a) => f.includes(a)));
const shared = files.filter((f) => !alone.includes(f));

/** @type {Array<{file: string, ms: number, code: number | null, tests: number, pass: number, fail: number, timedOut: boolean}>} */
const results = [];
/**
 * Runs one file directly (its own TAP streams as its tests end, so a killed
 * file still shows how far it got); prints its whole output at once when it
 * ends (no interleaving).
 */
function runFile(file) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--test-reporter=tap', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks = [];
    child.stdout.on('data', (c) => chunks.push(c));
    child.stderr.on('data', (c) => chunks.push(c));
    let timedOut = false;
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, FILE_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      const out = Buffer.concat(chunks).toString('utf8');
      const count = (k) => Number((new RegExp(`^# ${k} (\\d+)$`, 'm').exec(out) ?? [])[1] ?? 0);
      const r = { file, ms: Date.now() - started, code, tests: count('tests'), pass: count('pass'), fail: count('fail'), timedOut };
      results.push(r);
      process.stdout.write(`# file: ${file} (${(r.ms / 1000).toFixed(1)} s)\n${out}`);
      if (timedOut) process.stdout.write(`not ok - ${file}: killed after ${FILE_TIMEOUT_MS} ms\n`);
      resolve(r);
    });
  });
}

async function pool(list, width) {
  let next = 0;
  const lane = async () => { while (next < list.length) await runFile(list[next++]); };
  await Promise.all(Array.from({ length: Math.min(width, list.length) }, lane));
}

const isFailed = (r) => r.code !== 0 || r.fail > 0 || r.timedOut;
const t0 = Date.now();
await pool(shared, jobs);
await pool(alone, 1);

// A file that failed runs once more, alone. One that passes then is named
// FLAKY in the summary (its first output, above, says what happened); one
// that fails again fails the run. why: a few failures depend on timing or
// memory layout rather than on the code under test, such as uWS 20.57
// closing a just-upgraded WebSocket (README, "Known uWS 20.57 issue").
const flaky = [];
for (const first of results.filter(isFailed)) {
  process.stdout.write(`# ${first.file} failed; running it once more, alone\n`);
  const again = await runFile(first.file);
  results.splice(results.indexOf(first), 1);
  if (!isFailed(again)) flaky.push(first);
}
const failed = results.filter(isFailed);
const sum = (k) => results.reduce((n, r) => n + r[k], 0);
const slowest = [...results].sort((a, b) => b.ms - a.ms).slice(0, 12);
process.stdout.write([
  '',
  `# summary: ${results.length} files, ${sum('tests')} tests, ${sum('pass')} passed, ${sum('fail')} failed, `
    + `${((Date.now() - t0) / 1000).toFixed(0)} s (${shared.length} files ${jobs} at a time, then ${alone.length} alone)`,
  '# slowest files:',
  ...slowest.map((r) => `#   ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${r.file}`),
  ...(flaky.length === 0 ? [] : ['# FLAKY files (failed, then passed alone; their failing output is above):',
    ...flaky.map((r) => `#   ${r.file} (${r.timedOut ? 'timed out' : `${r.fail} failed`} the first time)`)]),
  ...(failed.length === 0 ? ['# all files passed'] : ['# FAILED files:', ...failed.map((r) => `#   ${r.file} (exit ${r.code}${r.timedOut ? ', timed out' : ''}, ${r.fail} failed)`)]),
  '',
].join('\n'));
process.exit(failed.length === 0 ? 0 : 1);
