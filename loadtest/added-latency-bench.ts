/**
 * Added latency at fixed arrival rates: the same open-loop load (coordinated
 * omission corrected) sent straight to an nginx origin, through Turnpike
 * (1 worker) and through nginx (1 worker), subtracted percentile by
 * percentile. Writes results/added-latency.md.
 *
 *   node dist/loadtest/added-latency-bench.js [--rates 2000,8000] [--duration 8]
 *
 * Pinning: proxies on cpu0; this generator and the origin on cpu1 (run the
 * script under `taskset -c 1` for that; it says what it found).
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ProcessSet } from '../native-bench/bench-procs.js';
import { formatMachine, machineInfo } from '../native-bench/machine-info.js';
import { startOrigin, startProxy, type Running } from '../native-bench/proxy-targets.js';
import { addedLatency } from './added-latency.js';
import type { LatencyPercentiles } from './latency-percentiles.js';
import { runOpenLoop } from './open-loop.js';

const KEYS: Array<keyof LatencyPercentiles> = ['p50', 'p90', 'p99', 'p99_9', 'max'];
const TARGET_ADDED_P99_MS = 10;

function fmt(p: LatencyPercentiles): string {
  return KEYS.map((k) => p[k].toFixed(2)).join(' | ');
}

async function main(set: ProcessSet): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2), strict: true,
    options: { rates: { type: 'string', default: '2000,8000' }, duration: { type: 'string', default: '8' }, out: { type: 'string', default: 'results' } },
  });
  const here = dirname(fileURLToPath(import.meta.url));
  const repo = resolve(here, '../..');
  const machine = await machineInfo(repo);
  const runDir = mkdtempSync(join(os.tmpdir(), 'added-latency-'));
  chmodSync(runDir, 0o755);
  const durationMs = Number(values.duration) * 1000;
  const rates = String(values.rates).split(',').map(Number);
  const affinity = (await import('node:child_process')).execFileSync('taskset', ['-pc', String(process.pid)]).toString().trim();
  const lines: string[] = [];
  try {
    const origin = await startOrigin({ set, runDir, repoDir: repo, cpus: '1' });
    const proxies: Running[] = [];
    for (const name of ['turnpike', 'nginx'] as const) proxies.push(await startProxy(name, origin.port, { set, runDir, repoDir: repo, cpus: '0' }));
    lines.push(`| rate | target | p50 | p90 | p99 | p99.9 | max | errors | added p99 |`, `|---:|---|---:|---:|---:|---:|---:|---:|---:|`);
    let worstAdded = 0;
    for (const rate of rates) {
      const load = (port: number) => runOpenLoop({ url: `http://127.0.0.1:${port}/`, rate, durationMs, connections: 64 });
      await load(origin.port); // warm-up of the generator and origin
      const direct = await load(origin.port);
      const errs = (r: Awaited<ReturnType<typeof load>>): number => r.errors.connect + r.errors.timeout + r.errors.status5xx + r.errors.other + r.unfinished;
      lines.push(`| ${rate} | direct (origin) | ${fmt(direct.percentiles)} | ${errs(direct)} | — |`);
      for (const p of proxies) {
        await load(p.port);
        const via = await load(p.port);
        const added = addedLatency(via.percentiles, direct.percentiles);
        if (p.name === 'turnpike') worstAdded = Math.max(worstAdded, added.p99);
        lines.push(`| ${rate} | ${p.name} | ${fmt(via.percentiles)} | ${errs(via)} | ${added.p99.toFixed(2)} ms |`);
        process.stdout.write(lines[lines.length - 1] + '\n');
      }
    }
    const verdict = worstAdded < TARGET_ADDED_P99_MS ? 'PASS' : 'FAIL';
    const report = [
      '# Added latency at fixed arrival rates (open loop, coordinated omission corrected)', '',
      `Date: ${new Date().toISOString()}. Machine: ${formatMachine(machine)} (cores as seen by this pinned process; the machine has ${os.cpus().length}).`,
      `Command: \`taskset -c 1 node dist/loadtest/added-latency-bench.js --rates ${values.rates} --duration ${values.duration}\` (generator affinity: ${affinity}).`,
      'Proxies (Turnpike 1 worker, nginx 1 worker, keep-alive upstream pools) pinned to cpu0; the generator (undici, 64 connections) and the nginx origin share cpu1.',
      'Each cell is latency in ms from the scheduled send time; "added p99" = proxy p99 − direct p99 at the same rate. Each rate: one warm-up run, then the measured run.', '',
      ...lines, '',
      `Seed target: added p99 < ${TARGET_ADDED_P99_MS} ms → **${verdict}** (worst Turnpike added p99 ${worstAdded.toFixed(2)} ms at these rates on this box).`, '',
    ].join('\n');
    writeFileSync(join(String(values.out), 'added-latency.md'), report);
    process.stdout.write(report);
  } finally {
    await set.stopAll(2000);
    rmSync(runDir, { recursive: true, force: true });
  }
}

const procs = new ProcessSet();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void procs.stopAll(2000).finally(() => process.exit(130)); });
main(procs).catch(async (err) => {
  process.stderr.write(`added-latency-bench: ${(err as Error).stack ?? String(err)}\n`);
  await procs.stopAll(2000);
  process.exit(1);
});
