/**
 * Describes the machine and tool versions a benchmark ran on.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { runToEnd } from './bench-procs.js';

/** Machine and software versions, for the report. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  kernel: string;
  node: string;
  nginx: string;
  wrk: string;
  haproxy: string;
  clkTck: number;
  /** 1-minute load average when the benchmark started. */
  loadAvgStart: number;
  gitCommit: string;
  /** Whether the working tree had uncommitted changes (others edit in parallel). */
  gitDirty: boolean;
}

async function firstLine(cmd: string, args: string[], pattern: RegExp): Promise<string> {
  try {
    const r = await runToEnd(cmd, args);
    const m = pattern.exec(r.stdout + '\n' + r.stderr);
    return m === null ? 'unknown' : m[1].trim();
  } catch {
    return 'not installed';
  }
}

/** Collects the machine description (runs `nginx -v`, `wrk -v`, `git`, ...). */
export async function machineInfo(repoDir: string): Promise<MachineInfo> {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo);
  const tck = await runToEnd('getconf', ['CLK_TCK']);
  const commit = await runToEnd('git', ['-C', repoDir, 'rev-parse', '--short', 'HEAD']).catch(() => null);
  const dirty = await runToEnd('git', ['-C', repoDir, 'status', '--porcelain', '--untracked-files=no']).catch(() => null);
  return {
    cpuModel: model === null ? os.cpus()[0]?.model ?? 'unknown' : model[1].trim(),
    cores: os.cpus().length,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: await firstLine('nginx', ['-v'], /nginx version:\s*(.+)/),
    wrk: await firstLine('wrk', ['-v'], /^(wrk .+?)\s+Copyright/m),
    haproxy: await firstLine('haproxy', ['-v'], /^(HA-?Proxy version \S+)/m),
    clkTck: Number(tck.stdout.trim()) || 100,
    loadAvgStart: os.loadavg()[0],
    gitCommit: commit === null ? 'unknown' : commit.stdout.trim(),
    gitDirty: dirty !== null && dirty.stdout.trim() !== '',
  };
}

/** One-line summary for the console and the report. */
export function formatMachine(m: MachineInfo): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.kernel}, Node ${m.node}, ${m.nginx}, ${m.wrk}, ${m.haproxy}, CLK_TCK ${m.clkTck}`;
}
