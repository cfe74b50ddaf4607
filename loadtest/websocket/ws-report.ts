/**
 * The WebSocket bench's result (JSON) and its Markdown report: every run
 * side by side, direct to the echo upstream and through the gateway, with
 * the latency the gateway adds at the same load.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatMachine, type MachineInfo } from '../../native-bench/machine-info.js';
import type { LatencyPercentiles } from '../latency-percentiles.js';
import { mdCell } from '../report/markdown-report.js';

/** Version of the JSON format below. */
export const WS_BENCH_RESULT_VERSION = 1;

/** One measured run. */
export interface WsBenchRun {
  /** 1-based round (targets alternate within a round). */
  round: number;
  mode: 'throughput' | 'latency';
  /** `direct` (straight to the echo upstream) or `turnpike`. */
  target: 'direct' | 'turnpike';
  /** Gateway workers (0 for direct). */
  workers: number;
  connections: number;
  /** Throughput mode: messages in flight per connection (null in latency mode). */
  window: number | null;
  /** Latency mode: target messages per second (null in throughput mode). */
  rate: number | null;
  /** Payload bytes per message. */
  size: number;
  durationS: number;
  sent: number;
  completed: number;
  unfinished: number;
  errors: { connect: number; closed: number };
  /** Echoes per second. */
  messagesPerSec: number;
  /** Round trip, ms (latency mode: from the scheduled send time). */
  latency: LatencyPercentiles;
  /** turnpike − direct of the same round, mode and rate/window, per percentile (ms, ≥ 0); null for direct. */
  added: LatencyPercentiles | null;
  /** Gateway CPU (primary + workers) per echoed message, µs: the message relayed both ways; null for direct. */
  cpuUsPerMessage: number | null;
  /** Peak RSS of the gateway tree, MiB; null for direct. */
  rssMiB: number | null;
}

/** A whole bench invocation. */
export interface WsBenchResult {
  version: typeof WS_BENCH_RESULT_VERSION;
  date: string;
  command: string;
  machine: MachineInfo;
  pinning: string;
  runs: WsBenchRun[];
}

const ms = (v: number): string => v.toFixed(2);
const int = (v: number): string => Math.round(v).toLocaleString('en-US');

/** The runs table (Markdown, also printed on the terminal). */
export function formatWsRuns(runs: readonly WsBenchRun[]): string {
  const lines = [
    '| round | mode | target | workers | conns | window / rate | size B | msg/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | added p50 ms | added p99 ms | errors | CPU µs/msg | RSS MiB |',
    '|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|',
  ];
  for (const r of runs) {
    const l = r.latency;
    const load = r.mode === 'throughput' ? `${r.window} in flight` : `${int(r.rate ?? 0)}/s`;
    const errs = r.errors.connect + r.errors.closed + r.unfinished === 0 ? '0'
      : `connect ${r.errors.connect}, closed ${r.errors.closed}, unfinished ${r.unfinished}`;
    const cells = [String(r.round), r.mode, r.target, String(r.workers), String(r.connections), load, String(r.size), int(r.messagesPerSec),
      ms(l.p50), ms(l.p90), ms(l.p99), ms(l.p99_9), ms(l.max), r.added === null ? '–' : ms(r.added.p50), r.added === null ? '–' : ms(r.added.p99),
      errs, r.cpuUsPerMessage === null ? '–' : r.cpuUsPerMessage.toFixed(1), r.rssMiB === null ? '–' : r.rssMiB.toFixed(1)];
    lines.push(`| ${cells.map(mdCell).join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The Markdown report. */
export function formatWsReport(r: WsBenchResult): string {
  return [
    '# WebSocket proxying: messages per second and added round-trip latency', '',
    `Date: ${r.date}. Machine: ${formatMachine(r.machine)}; load average ${r.machine.loadAvgStart.toFixed(2)} at the start; commit ${r.machine.gitCommit}${r.machine.gitDirty ? ' (uncommitted changes)' : ''}.`,
    `Command: \`${r.command}\`. Pinning: ${r.pinning}.`, '',
    'Each row is one run against the same uWebSockets.js echo upstream, straight to it (`direct`) or through the gateway',
    '(`turnpike`, a `websocket: true` route), alternating within a round. Messages are binary, echoed in order; latency is',
    'the round trip per message. *throughput*: every connection keeps `window` messages in flight (closed loop), so',
    'msg/s is what the path sustains (on a shared 2-core box the generator shares a core and may be the limit).',
    '*latency*: messages are sent at a fixed rate whatever comes back and charged from their scheduled send time',
    '(coordinated omission corrected). *added* = turnpike − direct of the same round and load, per percentile (a',
    'difference of distributions, clamped at 0). CPU µs/msg: gateway CPU time (primary + workers, from /proc) per',
    'echoed message, i.e. one message relayed each way.', '',
    formatWsRuns(r.runs), '',
  ].join('\n');
}

/** Writes `<dir>/<name>.json` and `<dir>/<name>.md`; returns the paths. */
export function writeWsReport(r: WsBenchResult, dir: string, name: string): string[] {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, `${name}.json`);
  const md = join(dir, `${name}.md`);
  writeFileSync(json, JSON.stringify(r, null, 2) + '\n');
  writeFileSync(md, formatWsReport(r));
  return [json, md];
}
