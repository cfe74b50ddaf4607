/**
 * `npm run loadtest`: runs the scenarios (closed and/or open loop, one or more
 * worker counts), prints a table, and writes JSON + Markdown (with SVG charts)
 * to results/tmp/<UTC time>/, or to `--out DIR` (`--out results` updates the
 * committed reports). Options: `npm run loadtest -- --help` (loadtest-options.ts).
 *
 * Pinning (--pin auto, the default on a box with ≥ 2 cores): the gateway gets
 * cores 0..n-2, and this generator and the upstream share the last core, so
 * the generator cannot starve the gateway. When a run asks for as many
 * workers as there are cores, the gateway is not pinned and shares cores with
 * the generator: its requests/s is then a lower bound (see the report).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ProcessSet } from '../native-bench/bench-procs.js';
import { machineInfo } from '../native-bench/machine-info.js';
import { loadtestUsage, parseLoadtestArgs, type LoadtestOptions } from './loadtest-options.js';
import { formatProjections, projectScenario } from './projection.js';
import { repoRoot } from './processes.js';
import { writeReport } from './report/markdown-report.js';
import { formatTerminalTable, ProgressBar } from './report/terminal.js';
import { LOADTEST_RESULT_VERSION, type LoadMode, type LoadtestResult, type Projection, type ScenarioRun } from './result-types.js';
import { runScenario } from './run-scenario.js';
import { SCENARIOS, scenarioByName } from './scenarios/index.js';

function list(text: string): string[] {
  return text.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function positiveInts(flag: string, text: string): number[] {
  const xs = list(text).map(Number);
  if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`--${flag} wants positive integers, got "${text}"`);
  return xs;
}

/** Pins all threads of this process (the generator) to `cpus`. */
function pinSelf(cpus: string): void {
  execFileSync('taskset', ['-a', '-pc', cpus, String(process.pid)], { stdio: 'ignore' });
}

/** Decides the CPU sets: gateway first cores, generator + upstream on the last one. */
export function choosePinning(pin: string, cores: number, maxWorkers: number, gatewayCpus?: string, loadCpus?: string): { gateway?: string; load?: string; note: string } {
  if (gatewayCpus !== undefined || loadCpus !== undefined) {
    return { gateway: gatewayCpus, load: loadCpus, note: `gateway cpus ${gatewayCpus ?? 'any'}; generator + upstream cpus ${loadCpus ?? 'any'} (set by flags)` };
  }
  if (pin === 'none' || cores < 2) return { note: `not pinned (${cores} cores): generator, upstream and gateway share cores; req/s is a lower bound of gateway capacity` };
  const last = cores - 1;
  const gw = last === 1 ? '0' : `0-${last - 1}`;
  if (maxWorkers > last) {
    return { load: String(last), note: `generator + upstream pinned to cpu${last}; gateway not pinned (${maxWorkers} workers on ${cores} cores) so it shares cpu${last} with them: req/s is a lower bound` };
  }
  return { gateway: gw, load: String(last), note: `gateway on cpu ${gw}; generator + upstream on cpu${last}` };
}

async function main(set: ProcessSet): Promise<number> {
  let parsed;
  try {
    parsed = parseLoadtestArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`loadtest: ${(err as Error).message}\nRun \`npm run loadtest -- --help\` for the options.\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(loadtestUsage(SCENARIOS.map((s) => s.name)));
    return 0;
  }
  const values: LoadtestOptions = parsed.options;
  const scenarios = values.scenario === 'all' ? [...SCENARIOS] : list(values.scenario).map(scenarioByName);
  const modes = list(values.mode) as LoadMode[];
  for (const m of modes) if (m !== 'closed' && m !== 'open') throw new Error(`--mode wants closed and/or open, got "${m}"`);
  const cores = os.availableParallelism();
  const workers = positiveInts('workers', values.workers ?? (cores >= 2 ? `1,${cores}` : '1'));
  const durationS = Number(values.duration);
  const warmupS = Number(values.warmup);
  if (!(durationS > 0) || !(warmupS >= 0)) throw new Error('--duration must be > 0 and --warmup >= 0 (seconds)');
  const pinning = choosePinning(values.pin, cores, Math.max(...workers), values.gatewayCpus, values.loadCpus);
  const repo = repoRoot();
  // why: before pinning, so the report shows the machine's cores, not this process's affinity.
  const machine = await machineInfo(repo);
  if (pinning.load !== undefined) pinSelf(pinning.load);
  const runDir = mkdtempSync(join(os.tmpdir(), 'turnpike-loadtest-'));
  chmodSync(runDir, 0o755);
  const started = new Date().toISOString();
  const runs: ScenarioRun[] = [];
  let bar: ProgressBar | undefined;
  let barLabel = '';
  try {
    for (const scenario of scenarios) {
      process.stdout.write(`\n${scenario.name}: ${scenario.description}\n`);
      const got = await runScenario({
        scenario, modes, workers, durationS, warmupS,
        connections: values.connections === undefined ? undefined : positiveInts('connections', values.connections)[0],
        rates: values.rates === undefined ? undefined : positiveInts('rates', values.rates),
        set, runDir, clkTck: machine.clkTck, gatewayCpus: pinning.gateway, upstreamCpus: pinning.load,
        onProgress: (label, ms, total) => {
          if (label !== barLabel) { bar?.done(); bar = new ProgressBar(process.stdout, label, total); barLabel = label; }
          bar!.update(ms);
        },
        onStepDone: () => { bar?.done(); bar = undefined; barLabel = ''; },
      });
      runs.push(...got);
    }
  } finally {
    bar?.done();
    await set.stopAll(5000);
    rmSync(runDir, { recursive: true, force: true });
  }
  const projections = scenarios.map((s) => projectScenario(s.name, runs)).filter((p): p is Projection => p !== null);
  const result: LoadtestResult = {
    version: LOADTEST_RESULT_VERSION, date: started,
    command: `node dist/loadtest/loadtest-cli.js ${process.argv.slice(2).join(' ')}`.trim(),
    machine, pinning: pinning.note, runs, projections,
  };
  process.stdout.write('\n' + formatTerminalTable(runs) + '\n');
  const written = writeReport(result, values.out, values.name);
  process.stdout.write(`\n${formatProjections(projections)}\n\nwrote ${written.join(', ')}\n`);
  return 0;
}

const procs = new ProcessSet();
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { void procs.stopAll(2000).finally(() => process.exit(130)); });
process.once('exit', () => procs.killAllNow());
main(procs).then((code) => process.exit(code), async (err) => {
  process.stderr.write(`loadtest: ${(err as Error).message}\n`);
  await procs.stopAll(2000);
  process.exit(1);
});
