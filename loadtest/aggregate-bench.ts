/**
 * What response aggregation adds over its slowest call: the same open-loop
 * arrival rate is sent (a) as the aggregate's 3 calls straight to the
 * upstream, in parallel, each request's latency being its slowest call's,
 * and (b) as one request to the gateway's `aggregate` route (scenario
 * config config/loadtest/aggregate.yaml: 3 parallel calls, the upstream
 * adding 5 ms to each). Both phases load the upstream the same (3 calls per
 * arrival), which the loadtest's one-call direct baseline does not. Phases
 * alternate `--rounds` times; latency is charged from each request's
 * scheduled send time (coordinated omission corrected).
 *
 *   node dist/loadtest/aggregate-bench.js [--rate 500] [--duration 6] [--rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { ProcessSet } from '../native-bench/bench-procs.js';
import { startGateway, startUpstream } from './processes.js';

/** Latency percentiles of one phase, ms. */
interface PhaseResult { name: string; requests: number; p50: number; p90: number; p99: number; p999: number }

const CALLS = ['/v1/users/42', '/v1/orders?user=42', '/v1/balance/42'];

async function get(pool: Pool, path: string): Promise<void> {
  const r = await pool.request({ path, method: 'GET' });
  await r.body.dump();
  if (r.statusCode !== 200) throw new Error(`${path}: status ${r.statusCode}`);
}

/** Sends `rate` requests a second for `seconds`, each one `one()`; percentiles of the latency from the scheduled time. */
async function phase(name: string, rate: number, seconds: number, one: () => Promise<unknown>): Promise<PhaseResult> {
  const n = Math.round(rate * seconds);
  const lat = new Float64Array(n);
  const t0 = performance.now() + 20;
  const pending: Array<Promise<void>> = [];
  for (let i = 0; i < n; i++) {
    const at = t0 + (i * 1000) / rate;
    const wait = at - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    pending.push(one().then(() => { lat[i] = performance.now() - at; }));
  }
  await Promise.all(pending);
  lat.sort();
  const q = (p: number): number => lat[Math.min(n - 1, Math.floor(p * n))];
  return { name, requests: n, p50: q(0.5), p90: q(0.9), p99: q(0.99), p999: q(0.999) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2), strict: true,
    options: { rate: { type: 'string', default: '500' }, duration: { type: 'string', default: '6' }, rounds: { type: 'string', default: '3' } },
  });
  const rate = Number(values.rate);
  const seconds = Number(values.duration);
  const rounds = Number(values.rounds);
  const set = new ProcessSet();
  const runDir = mkdtempSync(join(tmpdir(), 'aggregate-bench-'));
  try {
    const up = await startUpstream(set, 5);
    const gw = await startGateway({ set, configFile: 'aggregate.yaml', upstreamPort: up.port, workers: 1, runDir });
    const direct = CALLS.map(() => new Pool(`http://127.0.0.1:${up.port}`, { connections: 64 }));
    const gateway = new Pool(`http://127.0.0.1:${gw.port}`, { connections: 64 });
    const slowestOf3 = (): Promise<unknown> => Promise.all(CALLS.map((path, i) => get(direct[i], path)));
    const aggregate = (): Promise<void> => get(gateway, '/dashboard/42');
    await phase('warm-up', rate, 1, slowestOf3);
    await phase('warm-up', rate, 1, aggregate);
    const fmt = (x: number): string => x.toFixed(2);
    process.stdout.write('| round | slowest of 3 direct p50 / p90 / p99 / p99.9 ms | aggregate p50 / p90 / p99 / p99.9 ms | added p50 / p99 ms |\n|---|---|---|---|\n');
    for (let k = 1; k <= rounds; k++) {
      const d = await phase('slowest-of-3', rate, seconds, slowestOf3);
      const a = await phase('aggregate', rate, seconds, aggregate);
      process.stdout.write(`| ${k} | ${fmt(d.p50)} / ${fmt(d.p90)} / ${fmt(d.p99)} / ${fmt(d.p999)} | ${fmt(a.p50)} / ${fmt(a.p90)} / ${fmt(a.p99)} / ${fmt(a.p999)} | ${fmt(a.p50 - d.p50)} / ${fmt(a.p99 - d.p99)} |\n`);
    }
    await Promise.all([...direct, gateway].map((p) => p.close()));
  } finally {
    await set.stopAll(3000);
    rmSync(runDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`aggregate-bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
