/**
 * Syscall census: counts the system calls and context switches a proxy's
 * processes make per request, with `perf stat` on kernel tracepoints
 * (in-kernel counters, no per-event copy to user space). Runs as a separate,
 * short wrk run after the timed rounds so the timed numbers carry no
 * tracing overhead.
 */
import type { ProcessSet } from './bench-procs.js';
import { runToEnd } from './bench-procs.js';
import { loadFor, wrkArgs, type LoadOptions, type Scenario } from './bench-run.js';
import { processTree } from './proc-stat.js';
import { parseWrkOutput } from './wrk-output.js';

/** The syscalls counted one by one (others only appear in the total). */
export const COUNTED_SYSCALLS = [
  'read', 'readv', 'recvfrom', 'recvmsg', 'write', 'writev', 'sendto', 'sendmsg',
  'epoll_wait', 'epoll_pwait', 'epoll_pwait2', 'epoll_ctl', 'futex', 'mmap', 'munmap', 'madvise', 'mprotect',
] as const;

/** Syscalls and context switches per request of one proxy in one scenario. */
export interface Census {
  scenario: string;
  proxy: string;
  requests: number;
  syscallsPerReq: number;
  contextSwitchesPerReq: number;
  /** Page faults per request (V8 heap growth/GC touches fresh pages; kernel time). */
  pageFaultsPerReq: number;
  /** Per syscall name (only non-zero ones). */
  perReq: Record<string, number>;
}

/** Whether `perf stat` can count syscall tracepoints here (needs root or perf_event_paranoid <= -1). */
export async function perfTracepointsWork(): Promise<boolean> {
  try {
    const r = await runToEnd('perf', ['stat', '-x', ',', '-e', 'raw_syscalls:sys_enter', '--', 'true']);
    return r.code === 0 && /^\d+,/m.test(r.stderr);
  } catch {
    return false;
  }
}

/**
 * Parses `perf stat -x ,` output (stderr): `value,unit,event,...` per line.
 * Lines with `<not counted>`/`<not supported>` are skipped.
 */
export function parsePerfCsv(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const f = line.split(',');
    if (f.length < 3 || !/^\d+(\.\d+)?$/.test(f[0])) continue;
    out.set(f[2], Number(f[0]));
  }
  return out;
}

/** One short wrk run with `perf stat` attached to every process of the proxy. */
export async function syscallCensus(
  set: ProcessSet, proxy: { name: string; port: number; pid: number }, scenario: Scenario, load: LoadOptions, seconds: number,
): Promise<Census> {
  const pids = processTree(proxy.pid).map((p) => p.pid).join(',');
  const events = ['raw_syscalls:sys_enter', 'context-switches', 'page-faults', ...COUNTED_SYSCALLS.map((s) => `syscalls:sys_enter_${s}`)];
  const perf = set.start('perf', 'perf', ['stat', '-x', ',', '-e', events.join(','), '-p', pids]);
  await new Promise((r) => setTimeout(r, 300)); // let perf attach
  const w = await set.run('wrk', 'wrk', wrkArgs(proxy.port, scenario.path, loadFor(scenario, load), seconds, scenario.wrkScriptFile), { cpus: load.cpus });
  perf.child.kill('SIGINT');
  await perf.whenExited;
  await new Promise<void>((r) => { if (perf.child.stderr!.closed) r(); else perf.child.stderr!.once('close', () => r()); });
  const counts = parsePerfCsv(perf.output());
  const wrk = parseWrkOutput(w.output);
  const req = Math.max(1, wrk.requests);
  const perReq: Record<string, number> = {};
  for (const s of COUNTED_SYSCALLS) {
    const n = counts.get(`syscalls:sys_enter_${s}`) ?? 0;
    if (n > 0) perReq[s] = n / req;
  }
  return {
    scenario: scenario.name, proxy: proxy.name, requests: wrk.requests,
    syscallsPerReq: (counts.get('raw_syscalls:sys_enter') ?? 0) / req,
    contextSwitchesPerReq: (counts.get('context-switches') ?? 0) / req,
    pageFaultsPerReq: (counts.get('page-faults') ?? 0) / req,
    perReq,
  };
}

/** Markdown table of census results. */
export function formatCensus(rows: Census[]): string {
  const names = COUNTED_SYSCALLS.filter((s) => rows.some((r) => (r.perReq[s] ?? 0) >= 0.01));
  const lines = [
    `| scenario | proxy | requests | syscalls/req | ctx switches/req | page faults/req | ${names.join(' | ')} |`,
    `|---|---|---:|---:|---:|---:|${names.map(() => '---:').join('|')}|`,
  ];
  for (const r of rows) {
    lines.push(`| ${r.scenario} | ${r.proxy} | ${r.requests.toLocaleString('en-US')} | ${r.syscallsPerReq.toFixed(2)} | ${r.contextSwitchesPerReq.toFixed(2)} | ${r.pageFaultsPerReq.toFixed(3)} | ` +
      `${names.map((s) => (r.perReq[s] ?? 0).toFixed(2)).join(' | ')} |`);
  }
  return lines.join('\n');
}
