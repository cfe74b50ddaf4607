/**
 * One measured wrk run against one proxy: warm-up, CPU snapshots of the
 * proxy's and the origin's process trees and of every core, wrk, snapshots
 * again.
 */
import type { ProcessSet } from './bench-procs.js';
import { coreBusyPercent, parseProcStat, readCoreTicks, treeCpu } from './proc-stat.js';
import { parseWrkOutput, type WrkResult } from './wrk-output.js';

/** A request scenario: the path sent through the proxy (or the wrk script that makes the requests). */
export interface Scenario {
  name: string;
  /** The URL path given to wrk (a script may send other paths). */
  path: string;
  /** Response body size from the origin, bytes. */
  bodyBytes: number;
  /** wrk Lua script (`-s FILE`) that builds the requests; undefined = plain GETs of `path`. */
  wrkScriptFile?: string;
  /** wrk connections for this scenario; undefined = the command line's. */
  connections?: number;
}

/** The load settings for `scenario`: `load` with the scenario's connection count, if it has one. */
export function loadFor(scenario: Scenario, load: LoadOptions): LoadOptions {
  return scenario.connections === undefined ? load : { ...load, connections: scenario.connections };
}

/** Load-generator settings. */
export interface LoadOptions {
  connections: number;
  threads: number;
  durationS: number;
  warmupS: number;
  /** taskset CPU list for wrk, undefined = not pinned. */
  cpus?: string;
  clkTck: number;
}

/**
 * Waits until the machine is quiet: busy time over all cores, sampled for 1 s
 * at a time while the benchmark's own processes idle, below `maxBusyPct` of
 * one core. Gives up after `maxWaitMs`. Resolves with the last sample's busy
 * % (what other people's jobs were using when the run started).
 */
export async function waitQuiet(maxBusyPct: number, maxWaitMs: number): Promise<{ busyPct: number; waitedMs: number }> {
  const t0 = Date.now();
  for (;;) {
    const a = readCoreTicks();
    await new Promise((r) => setTimeout(r, 1000));
    const pct = coreBusyPercent(a, readCoreTicks()).reduce((x, y) => x + y, 0);
    const waited = Date.now() - t0;
    if (pct <= maxBusyPct || waited >= maxWaitMs) return { busyPct: pct, waitedMs: waited };
  }
}

/** Everything measured in one run. */
export interface RunResult {
  scenario: string;
  proxy: string;
  round: number;
  wrk: WrkResult;
  /** CPU time of all the proxy's processes during the wrk run, ms. */
  proxyCpuMs: number;
  proxyCpuUsPerReq: number;
  /** The kernel part (stime) of proxyCpuUsPerReq. */
  proxySysUsPerReq: number;
  /** The proxy's processes (pid, command, CPU ms during the run). */
  proxyProcesses: { pid: number; comm: string; cpuMs: number }[];
  /** True when the proxy's set of processes changed during the run (a crash/restart). */
  treeChanged: boolean;
  originCpuUsPerReq: number;
  wrkCpuUsPerReq: number;
  /** Busy % of each core during the run. */
  coreBusyPct: number[];
  /**
   * CPU used by everything else on the machine during the run (all cores'
   * busy time minus proxy, origin and wrk), in % of one core: other people's
   * jobs. High values mean a noisy run.
   */
  otherCpuPct: number;
  /** Machine busy % (of one core) just before the run, and how long we waited for quiet. */
  quietBefore: { busyPct: number; waitedMs: number } | null;
  wrkCommand: string;
}

/** The wrk argument list for one run (`-s script` when a Lua script makes the requests). */
export function wrkArgs(port: number, path: string, load: LoadOptions, durationS: number, script?: string): string[] {
  return [`-t${load.threads}`, `-c${load.connections}`, `-d${durationS}s`, '--latency',
    ...(script === undefined ? [] : ['-s', script]), `http://127.0.0.1:${port}${path}`];
}

/** The wrk command line as a user would type it. */
export function wrkCommandLine(port: number, path: string, load: LoadOptions, script?: string): string {
  const pin = load.cpus === undefined ? '' : `taskset -c ${load.cpus} `;
  return pin + 'wrk ' + wrkArgs(port, path, load, load.durationS, script).join(' ');
}

// why: a shell that has reaped wrk holds wrk's CPU time in its own cutime/cstime,
// which it prints from /proc/$$/stat; /proc/<wrk pid> is gone once wrk exits.
const WRK_WRAPPER = 'wrk "$@"; rc=$?; echo "@@STAT $(cat /proc/$$/stat)"; exit $rc';

async function wrk(set: ProcessSet, port: number, scenario: Scenario, load: LoadOptions, durationS: number): Promise<{ result: WrkResult; cpuTicks: number }> {
  const args = wrkArgs(port, scenario.path, load, durationS, scenario.wrkScriptFile);
  const r = await set.run('wrk', 'sh', ['-c', WRK_WRAPPER, 'sh', ...args], { cpus: load.cpus });
  if (r.status !== '0') throw new Error(`wrk exited ${r.status}:\n${r.output}`);
  const at = r.output.lastIndexOf('@@STAT ');
  const stat = at < 0 ? null : parseProcStat(r.output.slice(at + 7).split('\n')[0]);
  return { result: parseWrkOutput(r.output), cpuTicks: stat === null ? 0 : stat.cutime + stat.cstime };
}

/** Warms the proxy up, then measures one wrk run. */
export async function measureRun(
  set: ProcessSet, proxy: { name: string; port: number; pid: number }, originPid: number,
  scenario: Scenario, round: number, commonLoad: LoadOptions,
): Promise<RunResult> {
  const load = loadFor(scenario, commonLoad);
  if (load.warmupS > 0) await wrk(set, proxy.port, scenario, load, load.warmupS);
  const p0 = treeCpu(proxy.pid);
  const o0 = treeCpu(originPid);
  const c0 = readCoreTicks();
  const { result, cpuTicks: wrkTicks } = await wrk(set, proxy.port, scenario, load, load.durationS);
  const c1 = readCoreTicks();
  const o1 = treeCpu(originPid);
  const p1 = treeCpu(proxy.pid);
  const msPerTick = 1000 / load.clkTck;
  const proxyCpuMs = (p1.ticks - p0.ticks) * msPerTick;
  const before = new Map(p0.processes.map((p) => [p.pid, p.ticks]));
  const samePids = p0.processes.length === p1.processes.length && p1.processes.every((p) => before.has(p.pid));
  const req = Math.max(1, result.requests);
  let busy = 0;
  let span = 0;
  for (let i = 0; i < c1.length; i++) { busy += c1[i].busy - c0[i].busy; span += c1[i].total - c0[i].total; }
  span /= c1.length;
  const other = busy - (p1.ticks - p0.ticks) - (o1.ticks - o0.ticks) - wrkTicks;
  return {
    scenario: scenario.name,
    proxy: proxy.name,
    round,
    wrk: result,
    proxyCpuMs,
    proxyCpuUsPerReq: (proxyCpuMs * 1000) / req,
    proxySysUsPerReq: ((p1.sysTicks - p0.sysTicks) * msPerTick * 1000) / req,
    proxyProcesses: p1.processes.map((p) => ({ pid: p.pid, comm: p.comm, cpuMs: (p.ticks - (before.get(p.pid) ?? 0)) * msPerTick })),
    treeChanged: !samePids,
    originCpuUsPerReq: ((o1.ticks - o0.ticks) * msPerTick * 1000) / req,
    wrkCpuUsPerReq: (wrkTicks * msPerTick * 1000) / req,
    coreBusyPct: coreBusyPercent(c0, c1),
    otherCpuPct: span > 0 ? Math.max(0, (100 * other) / span) : 0,
    quietBefore: null,
    wrkCommand: wrkCommandLine(proxy.port, scenario.path, load, scenario.wrkScriptFile),
  };
}
