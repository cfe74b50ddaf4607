/**
 * `npm run loadtest:websocket`: WebSocket messages per second and added
 * round-trip latency, through the gateway and straight to the same uWS echo
 * upstream, side by side in one run. Writes `<out>/<name>.json` and `.md`
 * (default results/tmp/<UTC time>/websocket.*; `--out results` for the
 * committed report).
 *
 *   npm run loadtest:websocket -- --duration 10 --connections 50 --window 8 --size 64 --rates 2000,10000 --rounds 2
 *
 * Pinning (--pin auto, the default on ≥ 2 cores): the gateway on cores
 * 0..n-2, this generator and the echo upstream on the last core.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ProcessSet } from '../native-bench/bench-procs.js';
import { machineInfo } from '../native-bench/machine-info.js';
import { DEFAULT_OUT_PARENT, runStamp } from './loadtest-options.js';
import { repoRoot } from './processes.js';
import { runWsBench } from './websocket/ws-bench-run.js';
import { formatWsRuns, WS_BENCH_RESULT_VERSION, writeWsReport, type WsBenchResult } from './websocket/ws-report.js';

const USAGE = `Usage: npm run loadtest:websocket -- [options]
  --duration S        seconds per measured run (default 10)
  --warmup S          warm-up seconds before each run, not recorded (default 2)
  --connections N     client connections (default 50)
  --window N          throughput mode: messages in flight per connection (default 8)
  --size BYTES        payload of every message (default 64)
  --rates R1,R2       latency mode: messages per second (default 2000,10000)
  --mode M            throughput and/or latency (default throughput,latency)
  --workers N         gateway workers (default 1)
  --rounds N          rounds; direct and turnpike alternate within each (default 1)
  --pin auto|none     pin the gateway and the generator + upstream apart (default auto)
  --gateway-cpus L --load-cpus L   pin by hand (taskset lists)
  --out DIR           report directory (default results/tmp/<UTC time>/)
  --name NAME         report file name without extension (default websocket)
`;

function ints(flag: string, text: string): number[] {
  const xs = text.split(',').map((x) => Number(x.trim()));
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`--${flag} wants positive integers, got "${text}"`);
  return xs;
}

/** The CPU sets: the gateway on the first cores, generator + upstream on the last one (unless told otherwise). */
function pinning(pin: string, cores: number, workers: number, gatewayCpus?: string, loadCpus?: string): { gateway?: string; load?: string; note: string } {
  if (gatewayCpus !== undefined || loadCpus !== undefined) return { gateway: gatewayCpus, load: loadCpus, note: `gateway cpus ${gatewayCpus ?? 'any'}; generator + upstream cpus ${loadCpus ?? 'any'} (set by flags)` };
  if (pin === 'none' || cores < 2) return { note: `not pinned (${cores} cores): generator, upstream and gateway share cores` };
  const last = cores - 1;
  const gw = last === 1 ? '0' : `0-${last - 1}`;
  if (workers > last) return { load: String(last), note: `generator + upstream on cpu${last}; gateway not pinned (${workers} workers on ${cores} cores)` };
  return { gateway: gw, load: String(last), note: `gateway on cpu ${gw}; generator + echo upstream on cpu${last}` };
}

async function main(set: ProcessSet): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2), strict: true,
    options: {
      duration: { type: 'string', default: '10' }, warmup: { type: 'string', default: '2' }, connections: { type: 'string', default: '50' },
      window: { type: 'string', default: '8' }, size: { type: 'string', default: '64' }, rates: { type: 'string', default: '2000,10000' },
      mode: { type: 'string', default: 'throughput,latency' }, workers: { type: 'string', default: '1' }, rounds: { type: 'string', default: '1' },
      pin: { type: 'string', default: 'auto' }, 'gateway-cpus': { type: 'string' }, 'load-cpus': { type: 'string' },
      out: { type: 'string' }, name: { type: 'string', default: 'websocket' }, help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help === true) { process.stdout.write(USAGE); return 0; }
  const modes = values.mode!.split(',').map((m) => m.trim());
  for (const m of modes) if (m !== 'throughput' && m !== 'latency') throw new Error(`--mode wants throughput and/or latency, got "${m}"`);
  const durationS = Number(values.duration);
  const warmupS = Number(values.warmup);
  if (!(durationS > 0) || !(warmupS >= 0)) throw new Error('--duration must be > 0 and --warmup >= 0 (seconds)');
  const size = Number(values.size);
  if (!Number.isInteger(size) || size < 0 || size > 16 * 1024 * 1024) throw new Error(`--size wants 0..16777216 bytes, got "${values.size}"`);
  const workers = ints('workers', values.workers!)[0];
  const pin = pinning(values.pin!, os.availableParallelism(), workers, values['gateway-cpus'], values['load-cpus']);
  const repo = repoRoot();
  const machine = await machineInfo(repo);
  if (pin.load !== undefined) execFileSync('taskset', ['-a', '-pc', pin.load, String(process.pid)], { stdio: 'ignore' });
  const runDir = mkdtempSync(join(os.tmpdir(), 'turnpike-ws-bench-'));
  chmodSync(runDir, 0o755);
  const date = new Date();
  try {
    const runs = await runWsBench({
      set, runDir, clkTck: machine.clkTck, workers, connections: ints('connections', values.connections!)[0],
      window: ints('window', values.window!)[0], size, rates: ints('rates', values.rates!), modes: modes as Array<'throughput' | 'latency'>,
      durationS, warmupS, rounds: ints('rounds', values.rounds!)[0], gatewayCpus: pin.gateway, upstreamCpus: pin.load,
      onStep: (label) => process.stdout.write(`${label} …\n`),
    });
    const result: WsBenchResult = {
      version: WS_BENCH_RESULT_VERSION, date: date.toISOString(),
      command: `node dist/loadtest/websocket-bench.js ${process.argv.slice(2).join(' ')}`.trim(),
      machine, pinning: pin.note, runs,
    };
    process.stdout.write('\n' + formatWsRuns(runs) + '\n');
    const written = writeWsReport(result, values.out ?? join(DEFAULT_OUT_PARENT, runStamp(date)), values.name!);
    process.stdout.write(`\nwrote ${written.join(', ')}\n`);
    return 0;
  } finally {
    await set.stopAll(5000);
    rmSync(runDir, { recursive: true, force: true });
  }
}

const procs = new ProcessSet();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void procs.stopAll(2000).finally(() => process.exit(130)); });
process.once('exit', () => procs.killAllNow());
main(procs).then((code) => process.exit(code), async (err) => {
  process.stderr.write(`loadtest:websocket: ${(err as Error).message}\n`);
  await procs.stopAll(2000);
  process.exit(1);
});
