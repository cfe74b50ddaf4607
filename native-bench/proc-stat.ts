/**
 * CPU accounting from /proc for the proxy benchmark: per-process CPU ticks
 * (utime + stime + cutime + cstime), process trees, and per-core busy time.
 * Linux only.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** The fields of /proc/<pid>/stat the benchmark uses. */
export interface ProcStat {
  pid: number;
  comm: string;
  ppid: number;
  /** User and system CPU of the process itself (all threads), clock ticks. */
  utime: number;
  stime: number;
  /** CPU of reaped children, clock ticks (catches a worker that died mid-run). */
  cutime: number;
  cstime: number;
}

/**
 * Parses one /proc/<pid>/stat line. The command name may hold spaces and
 * parentheses, so fields are counted from the last ')'.
 */
export function parseProcStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/<pid>/stat line: ${line.slice(0, 80)}`);
  const rest = line.slice(close + 2).split(' ');
  // rest[0] is field 3 (state), so field n is rest[n - 3].
  return {
    pid: Number(line.slice(0, open).trim()),
    comm: line.slice(open + 1, close),
    ppid: Number(rest[1]),
    utime: Number(rest[11]),
    stime: Number(rest[12]),
    cutime: Number(rest[13]),
    cstime: Number(rest[14]),
  };
}

/** /proc/<pid>/stat of one process, or null when it is gone. */
export function readProcStat(pid: number): ProcStat | null {
  try {
    return parseProcStat(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return null;
  }
}

/** `root` and all its descendants that are alive now, root first. */
export function processTree(root: number): ProcStat[] {
  const all: ProcStat[] = [];
  for (const name of readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const s = readProcStat(Number(name));
    if (s !== null) all.push(s);
  }
  const out: ProcStat[] = [];
  const rootStat = all.find((s) => s.pid === root);
  if (rootStat === undefined) return out;
  out.push(rootStat);
  for (let i = 0; i < out.length; i++) {
    const parent = out[i].pid;
    for (const s of all) if (s.ppid === parent) out.push(s);
  }
  return out;
}

/** CPU ticks of a whole process tree at one instant. */
export interface TreeCpu {
  /** Sum of utime + stime + cutime + cstime over the tree. */
  ticks: number;
  /** The kernel part of `ticks` (stime + cstime). */
  sysTicks: number;
  /** The processes counted, with their ticks, for the report. */
  processes: { pid: number; comm: string; ticks: number }[];
}

/** Snapshot of the CPU ticks of `root` and all its descendants. */
export function treeCpu(root: number): TreeCpu {
  const tree = processTree(root);
  const processes = tree.map((s) => ({
    pid: s.pid, comm: s.comm, ticks: s.utime + s.stime + s.cutime + s.cstime,
  }));
  const sysTicks = tree.reduce((a, s) => a + s.stime + s.cstime, 0);
  return { ticks: processes.reduce((a, p) => a + p.ticks, 0), sysTicks, processes };
}

/** Busy and total ticks of one CPU core from /proc/stat. */
export interface CoreTicks {
  busy: number;
  total: number;
}

/**
 * Parses the `cpuN` lines of /proc/stat (not the aggregate `cpu` line).
 * busy = user + nice + system + irq + softirq + steal; total adds idle and
 * iowait. guest time is already inside user.
 */
export function parseCoreTicks(text: string): CoreTicks[] {
  const cores: CoreTicks[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu') || line.charCodeAt(3) < 48 || line.charCodeAt(3) > 57) continue;
    const f = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const idle = f[3] + f[4];
    const total = f.reduce((a, b) => a + b, 0);
    cores.push({ busy: total - idle, total });
  }
  return cores;
}

/** Current per-core ticks. */
export function readCoreTicks(): CoreTicks[] {
  return parseCoreTicks(readFileSync('/proc/stat', 'latin1'));
}

/** Busy percentage of each core between two snapshots. */
export function coreBusyPercent(before: CoreTicks[], after: CoreTicks[]): number[] {
  return after.map((a, i) => {
    const b = before[i];
    const total = a.total - b.total;
    return total > 0 ? (100 * (a.busy - b.busy)) / total : 0;
  });
}

/** Parses the `VmRSS:` line of a /proc/<pid>/status text, in bytes (0 when absent, as for zombies). */
export function parseVmRssBytes(statusText: string): number {
  const at = statusText.indexOf('\nVmRSS:');
  if (at < 0) return 0;
  const end = statusText.indexOf('\n', at + 7);
  const kib = parseInt(statusText.slice(at + 7, end < 0 ? undefined : end).trim(), 10);
  return Number.isFinite(kib) ? kib * 1024 : 0;
}

/** Resident memory of `root` and all its descendants, summed, in bytes. */
export function treeRssBytes(root: number): number {
  let total = 0;
  for (const s of processTree(root)) {
    try {
      total += parseVmRssBytes(readFileSync(`/proc/${s.pid}/status`, 'latin1'));
    } catch {
      // the process exited between the listing and the read
    }
  }
  return total;
}
