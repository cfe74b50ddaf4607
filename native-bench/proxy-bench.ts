/**
 * Side-by-side proxy benchmark: Turnpike (1 worker) vs nginx (1 worker) vs
 * HAProxy (1 thread) vs fast-gateway vs fastify + @fastify/http-proxy (one
 * Node process each), in the load test's scenarios (bench-scenarios.ts),
 * driven by wrk in rotating order so machine noise hits every proxy alike.
 * Measures requests/s, p50/p99 and the proxy's CPU time per request (all
 * its processes, from /proc), writes results/proxy-bench.md and .json with
 * Turnpike ÷ each other proxy.
 *
 * Run (from the repo root, after a build):
 *   node dist/native-bench/proxy-bench.js [--rounds 2] [--duration 10] [--warmup 2]
 *     [--connections 50] [--scenarios tiny,16k,cache-hit,params,large-body,slow-upstream]
 *     [--proxies turnpike,nginx,haproxy,fast-gateway,fastify-http-proxy]
 *     [--pin on|off] [--out results] [--quiet-wait 30] [--census 3] [--profile] [--keep]
 * --profile runs Turnpike alone with `--cpu-prof` in its worker and writes
 * results/proxy-bench-profile-<scenarios>.md instead (the profile of the
 * last scenario's worker).
 */
import { chmodSync, mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ProcessSet } from './bench-procs.js';
import { layoutNotes } from './bench-layout.js';
import { measureRun, waitQuiet, type LoadOptions, type RunResult } from './bench-run.js';
import { formatMarkdown, formatRatioMatrix, formatRuns, formatTables, ratios, summarise, type Report } from './bench-report.js';
import { originKey, pickScenarios, prepareScenario, SCENARIOS, type BenchScenario } from './bench-scenarios.js';
import { ensureTools } from './ensure-tools.js';
import { formatMachine, machineInfo } from './machine-info.js';
import { writeProfileReport } from './profile-report.js';
import { checkScenario } from './scenario-checks.js';
import { formatCensus, perfTracepointsWork, syscallCensus, type Census } from './syscall-census.js';
import { checkForwarding, PROXY_NAMES, startOrigin, startProxy, type ForwardingCheck, type ProxyName, type Running } from './proxy-targets.js';
import { startUpstream } from '../loadtest/processes.js';

/** A run starts once the machine uses less than this (% of one core), or after --quiet-wait s. */
const QUIET_BUSY_PCT = 20;

const HERE = dirname(fileURLToPath(import.meta.url));

function repoRoot(): string {
  // dist/native-bench/proxy-bench.js or .cache/build-x/native-bench/proxy-bench.js
  return resolve(HERE, HERE.includes('/.cache/') ? '../../..' : '../..');
}

function parseOptions(): { values: Record<string, string | boolean | undefined> } {
  return parseArgs({
    args: process.argv.slice(2), strict: true,
    options: {
      rounds: { type: 'string' }, duration: { type: 'string', default: '10' }, warmup: { type: 'string', default: '2' },
      connections: { type: 'string', default: '50' }, threads: { type: 'string', default: '1' },
      scenarios: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') }, proxies: { type: 'string' },
      pin: { type: 'string', default: 'on' }, out: { type: 'string', default: 'results' },
      profile: { type: 'boolean', default: false }, keep: { type: 'boolean', default: false },
      'quiet-wait': { type: 'string', default: '30' }, census: { type: 'string', default: '3' },
    },
  });
}

/** The benchmark's state shared by the per-scenario steps. */
interface Bench {
  set: ProcessSet;
  repo: string;
  runDir: string;
  active: ProxyName[];
  load: LoadOptions;
  proxyCpus?: string;
  loadCpus?: string;
  nodeArgs?: string[];
  rounds: number;
  quietWaitS: number;
  censusS: number;
  origins: Map<string, Running>;
  runs: RunResult[];
  forwarding: ForwardingCheck[];
  checks: string[];
  census: Census[];
  configs: Record<string, string>;
  peerDescriptions: Set<string>;
}

/** The scenario's origin, started on first use and reused after. */
async function originFor(b: Bench, s: BenchScenario): Promise<Running> {
  const key = originKey(s.origin);
  const have = b.origins.get(key);
  if (have !== undefined) return have;
  let o: Running;
  if (s.origin.kind === 'nginx') {
    o = await startOrigin({ set: b.set, runDir: b.runDir, repoDir: b.repo, cpus: b.loadCpus });
    b.configs['origin (nginx): nginx-upstream.conf'] = o.configText;
  } else {
    const u = await startUpstream(b.set, s.origin.delayMs, b.loadCpus);
    o = { name: 'origin (uws)', port: u.port, proc: u.proc, configFile: '', configText: `node loadtest/upstream/upstream-server.js --port 0 --delay-ms ${s.origin.delayMs}\n` };
    b.configs[`origin (uWS upstream-server, delay ${s.origin.delayMs} ms): command`] = o.configText;
  }
  b.origins.set(key, o);
  return o;
}

/** Starts every proxy with the scenario's routing, checks them, runs all rounds (and the census), stops them. */
async function runScenario(b: Bench, s: BenchScenario): Promise<void> {
  const origin = await originFor(b, s);
  const running: Running[] = [];
  // A scenario may be for some proxies only (cache-hit: those with a response cache).
  const proxies = s.proxies === undefined ? b.active : b.active.filter((p) => s.proxies!.includes(p));
  try {
    for (const p of proxies) {
      running.push(await startProxy(p, origin.port, {
        set: b.set, runDir: b.runDir, repoDir: b.repo, cpus: b.proxyCpus, nodeArgs: p === 'turnpike' ? b.nodeArgs : undefined,
        routing: s.routing, upstreamPool: s.upstreamPool, probePath: s.probePath, tag: s.name, peerScriptDir: join(HERE, 'peers'),
        cache: s.cache,
      }));
    }
    for (const r of running) {
      b.checks.push(`${r.name}, ${s.name}: ${await checkScenario(r.port, s.check())}`);
      if (r.description !== undefined) b.peerDescriptions.add(r.description);
      b.configs[`${r.name} [${s.name}]: ${basename(r.configFile)}`] = r.configText;
      if (s.origin.kind === 'nginx' && s.routing.kind === 'catch-all' && s.cache !== true && !b.forwarding.some((f) => f.proxy === r.name)) b.forwarding.push(await checkForwarding(r));
    }
    process.stdout.write(`${s.name}: origin :${origin.port}; ${running.map((r) => `${r.name} :${r.port}`).join('; ')}; responses checked\n`);
    for (let round = 1; round <= b.rounds; round++) {
      // why: rotate the order each round so no proxy always runs first/last.
      const order = running.map((_, i) => running[(i + round - 1) % running.length]);
      for (const r of order) {
        // why: other jobs share this box; start each run when it is quiet (or after quietWaitS).
        const quiet = b.quietWaitS > 0 ? await waitQuiet(QUIET_BUSY_PCT, b.quietWaitS * 1000) : null;
        const res = await measureRun(b.set, { name: r.name, port: r.port, pid: r.proc.pid }, origin.proc.pid, s, round, b.load);
        res.quietBefore = quiet;
        b.runs.push(res);
        process.stdout.write(`round ${round} ${s.name.padEnd(13)} ${r.name.padEnd(18)} ${Math.round(res.wrk.rps).toString().padStart(7)} req/s  ` +
          `p50 ${res.wrk.p50Us.toFixed(0)}µs p99 ${res.wrk.p99Us.toFixed(0)}µs  proxy ${res.proxyCpuUsPerReq.toFixed(1)} µs/req (sys ${res.proxySysUsPerReq.toFixed(1)})  ` +
          `origin ${res.originCpuUsPerReq.toFixed(1)} µs/req  cores ${res.coreBusyPct.map((c) => c.toFixed(0)).join('/')}%  others ${res.otherCpuPct.toFixed(0)}%` +
          (quiet === null ? '' : `  (waited ${(quiet.waitedMs / 1000).toFixed(0)}s for quiet, ${quiet.busyPct.toFixed(0)}% busy)`) + '\n');
      }
    }
    if (b.censusS > 0 && await perfTracepointsWork()) {
      for (const r of running) {
        const c = await syscallCensus(b.set, { name: r.name, port: r.port, pid: r.proc.pid }, s, b.load, b.censusS);
        b.census.push(c);
        process.stdout.write(`census ${s.name.padEnd(13)} ${r.name.padEnd(18)} ${c.syscallsPerReq.toFixed(2)} syscalls/req, ${c.contextSwitchesPerReq.toFixed(2)} ctx switches/req, ${c.pageFaultsPerReq.toFixed(3)} page faults/req\n`);
      }
    }
  } finally {
    for (const r of running) await b.set.stop(r.proc);
  }
}

async function main(set: ProcessSet): Promise<void> {
  const { values: v } = parseOptions();
  const repo = repoRoot();
  const profile = v.profile === true;
  const proxies = String(v.proxies ?? (profile ? 'turnpike' : PROXY_NAMES.join(','))).split(',') as ProxyName[];
  for (const p of proxies) if (!PROXY_NAMES.includes(p)) throw new Error(`unknown proxy "${p}" (known: ${PROXY_NAMES.join(', ')})`);
  const picked = pickScenarios(String(v.scenarios).split(','));
  const haveHaproxy = await ensureTools(proxies.includes('haproxy'));
  const active = proxies.filter((p) => p !== 'haproxy' || haveHaproxy);
  const machine = await machineInfo(repo);
  const pin = v.pin === 'on' && machine.cores >= 2;
  const load: LoadOptions = {
    connections: Number(v.connections), threads: Number(v.threads), durationS: Number(v.duration),
    warmupS: Number(v.warmup), cpus: pin ? '1' : undefined, clkTck: machine.clkTck,
  };
  const runDir = mkdtempSync(join(os.tmpdir(), 'proxy-bench-'));
  tempDir = runDir;
  // why: nginx started as root serves files as user nobody; mkdtemp makes 0700.
  chmodSync(runDir, 0o755);
  const keep = v.keep === true || profile;
  if (keep) tempDir = null;
  process.stdout.write(`machine: ${formatMachine(machine)}\nload average: ${machine.loadAvgStart.toFixed(2)}\nrun dir: ${runDir}\n`);
  const b: Bench = {
    set, repo, runDir, active, load, proxyCpus: pin ? '0' : undefined, loadCpus: load.cpus,
    nodeArgs: profile ? ['--cpu-prof', `--cpu-prof-dir=${join(runDir, 'prof')}`, '--cpu-prof-interval=250'] : undefined,
    rounds: Number(v.rounds ?? (profile ? 1 : 2)), quietWaitS: Number(v['quiet-wait']), censusS: profile ? 0 : Number(v.census),
    origins: new Map(), runs: [], forwarding: [], checks: [], census: [], configs: {}, peerDescriptions: new Set(),
  };
  const scenarios = picked.map((s) => prepareScenario(s, runDir));

  try {
    for (const s of scenarios) await runScenario(b, s);
    await set.stopAll();

    const outDir = resolve(repo, String(v.out));
    mkdirSync(outDir, { recursive: true });
    const command = 'node dist/native-bench/proxy-bench.js' + (process.argv.length > 2 ? ' ' + process.argv.slice(2).join(' ') : '');
    if (profile) {
      const turnpike = b.runs.filter((r) => r.proxy === 'turnpike');
      const file = writeProfileReport(join(runDir, 'prof'), turnpike, join(outDir, `proxy-bench-profile-${scenarios.map((x) => x.name).join('-')}.md`), command, machine);
      process.stdout.write(formatRuns(b.runs) + `\n\nprofile report: ${file}\nraw profiles kept in ${join(runDir, 'prof')}\n`);
      return;
    }
    const summary = summarise(b.runs);
    const rs = ratios(summary);
    const layout = layoutNotes({
      pin, load, rounds: b.rounds, quietWaitS: b.quietWaitS, quietBusyPct: QUIET_BUSY_PCT, scenarios, peerDescriptions: [...b.peerDescriptions.values()],
    });
    const report: Report = {
      date: new Date().toISOString().replace('T', ' ').slice(0, 16) + ' UTC', command, machine, loadAvgEnd: os.loadavg()[0],
      layout, forwarding: b.forwarding, runs: b.runs, summary, ratios: rs, census: b.census, configs: b.configs,
      scenarios: scenarios.map((s) => ({ name: s.name, description: s.description })), checks: b.checks,
    };
    writeFileSync(join(outDir, 'proxy-bench.md'), formatMarkdown(report));
    writeFileSync(join(outDir, 'proxy-bench.json'), JSON.stringify(report, null, 2) + '\n');
    process.stdout.write('\n' + formatTables(summary, rs) + (b.census.length > 0 ? '\n' + formatCensus(b.census) + '\n' : '')
      + (rs.length > 0 ? '\nTurnpike ÷ each proxy:\n' + formatRatioMatrix(rs) + '\n' : '')
      + `\nwrote ${join(outDir, 'proxy-bench.md')} and proxy-bench.json\n`);
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
