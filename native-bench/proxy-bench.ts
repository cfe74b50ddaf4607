/**
 * Side-by-side proxy benchmark: Turnpike (1 worker) vs nginx (1 worker) vs
 * HAProxy (1 thread), all in front of the same nginx origin, driven by wrk in
 * alternating rounds so machine noise hits every proxy alike. Measures
 * requests/s, p50/p99 and the proxy's CPU time per request (all its
 * processes, from /proc), writes results/proxy-bench.md and .json.
 *
 * Run (from the repo root, after a build):
 *   node dist/native-bench/proxy-bench.js [--rounds 2] [--duration 10] [--warmup 2]
 *     [--connections 50] [--scenarios tiny,16k] [--proxies turnpike,nginx,haproxy]
 *     [--pin on|off] [--out results] [--quiet-wait 30] [--census 3] [--profile] [--keep]
 * --profile runs Turnpike alone with `--cpu-prof` in its worker and writes
 * results/proxy-bench-profile-<scenarios>.md instead.
 */
import { chmodSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ProcessSet } from './bench-procs.js';
import { measureRun, waitQuiet, type LoadOptions, type RunResult, type Scenario } from './bench-run.js';
import { formatMarkdown, formatRuns, formatTables, ratios, summarise, type Report } from './bench-report.js';
import { ensureTools } from './ensure-tools.js';
import { formatMachine, machineInfo } from './machine-info.js';
import { writeProfileReport } from './profile-report.js';
import { formatCensus, perfTracepointsWork, syscallCensus, type Census } from './syscall-census.js';
import {
  BIG_BODY_BYTES, checkForwarding, PROXY_NAMES, startOrigin, startProxy, TINY_BODY, type ProxyName, type Running,
} from './proxy-targets.js';

/** A run starts once the machine uses less than this (% of one core), or after --quiet-wait s. */
const QUIET_BUSY_PCT = 20;

const SCENARIOS: Scenario[] = [
  { name: 'tiny', path: '/', bodyBytes: TINY_BODY.length },
  { name: '16k', path: '/big', bodyBytes: BIG_BODY_BYTES },
];

function repoRoot(): string {
  // dist/native-bench/proxy-bench.js or .cache/build-x/native-bench/proxy-bench.js
  const here = dirname(fileURLToPath(import.meta.url));
  return resolve(here, here.includes('/.cache/') ? '../../..' : '../..');
}

function parseOptions(): { values: Record<string, string | boolean | undefined> } {
  return parseArgs({
    args: process.argv.slice(2), strict: true,
    options: {
      rounds: { type: 'string' }, duration: { type: 'string', default: '10' }, warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' }, threads: { type: 'string', default: '1' },
      scenarios: { type: 'string', default: 'tiny,16k' }, proxies: { type: 'string' },
      pin: { type: 'string', default: 'on' }, out: { type: 'string', default: 'results' },
      profile: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false },
      'quiet-wait': { type: 'string', default: '30' }, census: { type: 'string', default: '3' },
    },
  });
}

async function main(set: ProcessSet): Promise<void> {
  const { values: v } = parseOptions();
  const repo = repoRoot();
  const profile = v.profile === true;
  const proxies = String(v.proxies ?? (profile ? 'turnpike' : PROXY_NAMES.join(','))).split(',') as ProxyName[];
  for (const p of proxies) if (!PROXY_NAMES.includes(p)) throw new Error(`unknown proxy "${p}" (known: ${PROXY_NAMES.join(', ')})`);
  const scenarios = String(v.scenarios).split(',').map((n) => {
    const s = SCENARIOS.find((x) => x.name === n);
    if (s === undefined) throw new Error(`unknown scenario "${n}" (known: ${SCENARIOS.map((x) => x.name).join(', ')})`);
    return s;
  });
  const haveHaproxy = await ensureTools(proxies.includes('haproxy'));
  const active = proxies.filter((p) => p !== 'haproxy' || haveHaproxy);
  const rounds = Number(v.rounds ?? (profile ? 1 : 2));
  const quietWaitS = Number(v['quiet-wait']);
  const machine = await machineInfo(repo);
  const pin = v.pin === 'on' && machine.cores >= 2;
  const proxyCpus = pin ? '0' : undefined;
  const loadCpus = pin ? '1' : undefined;
  const load: LoadOptions = {
    connections: Number(v.connections), threads: Number(v.threads), durationS: Number(v.duration),
    warmupS: Number(v.warmup), cpus: loadCpus, clkTck: machine.clkTck,
  };
  const runDir = mkdtempSync(join(os.tmpdir(), 'proxy-bench-'));
  tempDir = runDir;
  // why: nginx started as root serves files as user nobody; mkdtemp makes 0700.
  chmodSync(runDir, 0o755);
  const keep = v.keep === true || profile;
  if (keep) tempDir = null;
  process.stdout.write(`machine: ${formatMachine(machine)}\nload average: ${machine.loadAvgStart.toFixed(2)}\nrun dir: ${runDir}\n`);

  try {
    const origin = await startOrigin({ set, runDir, repoDir: repo, cpus: loadCpus });
    const nodeArgs = profile ? ['--cpu-prof', `--cpu-prof-dir=${join(runDir, 'prof')}`, '--cpu-prof-interval=250'] : undefined;
    const running: Running[] = [];
    for (const p of active) running.push(await startProxy(p, origin.port, { set, runDir, repoDir: repo, cpus: proxyCpus, nodeArgs }));
    const forwarding = [];
    for (const r of running) forwarding.push(await checkForwarding(r));
    process.stdout.write(`origin :${origin.port}; ${running.map((r) => `${r.name} :${r.port}`).join('; ')}\n`);

    const runs: RunResult[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of scenarios) {
        // why: rotate the order each round so no proxy always runs first/last.
        const order = running.map((_, i) => running[(i + round - 1) % running.length]);
        for (const r of order) {
          // why: other jobs share this box; start each run when it is quiet (or after quietWaitS).
          const quiet = quietWaitS > 0 ? await waitQuiet(QUIET_BUSY_PCT, quietWaitS * 1000) : null;
          const res = await measureRun(set, { name: r.name, port: r.port, pid: r.proc.pid }, origin.proc.pid, scenario, round, load);
          res.quietBefore = quiet;
          runs.push(res);
          process.stdout.write(`round ${round} ${scenario.name.padEnd(4)} ${r.name.padEnd(8)} ${Math.round(res.wrk.rps).toString().padStart(7)} req/s  ` +
            `p50 ${res.wrk.p50Us.toFixed(0)}µs p99 ${res.wrk.p99Us.toFixed(0)}µs  proxy ${res.proxyCpuUsPerReq.toFixed(1)} µs/req (sys ${res.proxySysUsPerReq.toFixed(1)})  ` +
            `origin ${res.originCpuUsPerReq.toFixed(1)} µs/req  cores ${res.coreBusyPct.map((c) => c.toFixed(0)).join('/')}%  others ${res.otherCpuPct.toFixed(0)}%` +
            (quiet === null ? '' : `  (waited ${(quiet.waitedMs / 1000).toFixed(0)}s for quiet, ${quiet.busyPct.toFixed(0)}% busy)`) + '\n');
        }
      }
    }
    const census: Census[] = [];
    const censusS = Number(v.census);
    if (!profile && censusS > 0 && await perfTracepointsWork()) {
      for (const scenario of scenarios) {
        for (const r of running) {
          const c = await syscallCensus(set, { name: r.name, port: r.port, pid: r.proc.pid }, scenario, load, censusS);
          census.push(c);
          process.stdout.write(`census ${scenario.name.padEnd(4)} ${r.name.padEnd(8)} ${c.syscallsPerReq.toFixed(2)} syscalls/req, ${c.contextSwitchesPerReq.toFixed(2)} ctx switches/req, ${c.pageFaultsPerReq.toFixed(3)} page faults/req\n`);
        }
      }
    }
    await set.stopAll();

    const outDir = resolve(repo, String(v.out));
    mkdirSync(outDir, { recursive: true });
    const command = 'node dist/native-bench/proxy-bench.js' + (process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : '');
    if (profile) {
      const turnpike = runs.filter((r) => r.proxy === 'turnpike');
      const file = writeProfileReport(join(runDir, 'prof'), turnpike, join(outDir, `proxy-bench-profile-${scenarios.map((x) => x.name).join('-')}.md`), command, machine);
      process.stdout.write(formatRuns(runs) + `\n\nprofile report: ${file}\nraw profiles kept in ${join(runDir, 'prof')}\n`);
      return;
    }
    const summary = summarise(runs);
    const rs = ratios(summary);
    const layout = [
      pin ? 'cpu0: the proxy under test, all its processes (Turnpike primary + 1 worker; nginx master + 1 worker; HAProxy 1 thread), pinned with `taskset -c 0`.'
        : 'Nothing pinned (--pin off): proxy, origin and wrk share both cores as the scheduler likes.',
      pin ? 'cpu1: wrk (1 thread) and the nginx origin (master + 1 worker), pinned with `taskset -c 1`. With only 2 cores the load generator and the origin share a core; the proxy has one to itself.'
        : 'The load generator competes with the proxy for CPU.',
      `Origin: nginx, worker_processes 1, \`return 200\` of a ${TINY_BODY.length}-byte JSON body from memory (scenario tiny, path /) and a ${BIG_BODY_BYTES}-byte JSON file via sendfile (scenario 16k, path /big); keep-alive without request limit. Its CPU per request is in the tables, to show it is not the bottleneck.`,
      `All proxies run for the whole benchmark; only the one being measured gets load. Every run is a ${load.warmupS}s warm-up wrk run (discarded), then a ${load.durationS}s measured run with ${load.connections} connections; proxies alternate in rotating order; rounds per proxy and scenario: ${rounds}.`,
      'Load, origin and proxies talk over 127.0.0.1 (loopback TCP).',
      quietWaitS > 0 ? `Before each run the script waited (up to ${quietWaitS}s) until the whole machine used under ${QUIET_BUSY_PCT}% of one core, to dodge other jobs on this shared box; "others' CPU %" shows what they still took during each run.` : 'No waiting for a quiet machine (--quiet-wait 0).',
    ];
    const configs: Record<string, string> = { 'origin: nginx-upstream.conf': origin.configText };
    for (const r of running) configs[r.name + ': ' + r.configFile.slice(runDir.length + 1)] = r.configText;
    const report: Report = {
      date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC', command, machine, loadAvgEnd: os.loadavg()[0],
      layout, forwarding, runs, summary, ratios: rs, census, configs,
    };
    writeFileSync(join(outDir, 'proxy-bench.md'), formatMarkdown(report));
    writeFileSync(join(outDir, 'proxy-bench.json'), JSON.stringify(report, null, 2) + '\n');
    process.stdout.write('\n' + formatTables(summary, rs) + (census.length > 0 ? '\n' + formatCensus(census) + '\n' : '') + `\nwrote ${join(outDir, 'proxy-bench.md')} and proxy-bench.json\n`);
  } finally {
    await set.stopAll();
    if (!keep) rmSync(runDir, { recursive: true, force: true });
  }
}

const procs = new ProcessSet();
/** The run directory to delete on a signal (null when kept or not made yet). */
let tempDir: string | null = null;
process.on('exit', function killLeftovers() { procs.killAllNow(); });
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, function onSignal() {
    process.stderr.write(`\n${sig}: stopping every process the benchmark started\n`);
    void procs.stopAll(2000).finally(() => {
      if (tempDir !== null) rmSync(tempDir, { recursive: true, force: true });
      process.exit(130);
    });
  });
}
main(procs).catch(async (err: unknown) => {
  process.stderr.write(`proxy-bench: ${(err as Error).stack ?? String(err)}\n`);
  await procs.stopAll(2000);
  process.exit(1);
});
