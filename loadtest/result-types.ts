/**
 * The JSON shape of a load-test run (`results/loadtest-*.json`): what the
 * runner writes, the Markdown report renders and `loadtest compare` diffs.
 * Bump {@link LOADTEST_RESULT_VERSION} on an incompatible change.
 */
import type { LatencyPercentiles } from './latency-percentiles.js';
import type { MachineInfo } from '../native-bench/machine-info.js';

/** Version of the JSON format below. */
export const LOADTEST_RESULT_VERSION = 1;

/** Closed loop = as fast as N connections go (autocannon); open loop = fixed arrival rate, CO-corrected. */
export type LoadMode = 'closed' | 'open';

/** Requests that failed or got an error status, by kind. */
export interface ErrorCounts {
  /** Connection refused/reset/closed before a response. */
  connect: number;
  /** No response within the client's timeout. */
  timeout: number;
  /** 5xx responses. */
  status5xx: number;
  /** 4xx responses (a scenario expects none). */
  status4xx: number;
  /** Anything else (parse errors, unexpected bodies). */
  other: number;
  /** Open loop only: still outstanding when the drain timeout expired. */
  unfinished: number;
}

/** One point of the latency-by-percentile curve (HDR "percentile distribution"). */
export interface CurvePoint {
  /** Percentile, 0–100 (e.g. 99.9). */
  percentile: number;
  /** Latency at that percentile, ms. */
  ms: number;
}

/** One measured run: one scenario, one mode, one target, one worker count. */
export interface ScenarioRun {
  scenario: string;
  mode: LoadMode;
  /** 'turnpike', or 'direct' (the same load straight to the upstream, for added latency). */
  target: string;
  /** Gateway worker processes (0 for 'direct'). */
  workers: number;
  /** Load connections. */
  connections: number;
  /** Open loop: target arrival rate, req/s (null in closed loop). */
  rate: number | null;
  durationS: number;
  /** Responses received (any status). */
  requests: number;
  /** Responses per second over the run. */
  rps: number;
  /** Latency percentiles, ms (open loop: from the scheduled send time). */
  latency: LatencyPercentiles;
  /** Latency curve for the chart, ms, percentiles ascending. */
  curve: CurvePoint[];
  /** Open loop through the gateway: latency − direct latency at the same rate, percentile by percentile, ms. */
  added: LatencyPercentiles | null;
  errors: ErrorCounts;
  /** Gateway CPU (primary + workers, user + system) per response, µs; null for 'direct'. */
  cpuUsPerRequest: number | null;
  /** rps ÷ gateway cores busy (CPU seconds per second); null for 'direct'. */
  rpsPerCore: number | null;
  /** Peak resident memory of the gateway tree (sum over processes), MiB; null for 'direct'. */
  rssMiB: number | null;
}

/** Verdict against the seed targets for one scenario. */
export interface Projection {
  scenario: string;
  /** Lowest measured gateway CPU per request across the scenario's runs, µs. */
  cpuUsPerRequest: number;
  /** Cores needed for 100K req/s = 100 000 × cpuUsPerRequest / 1e6. */
  coresFor100k: number;
  /** Requests/s a 16-core instance would carry at that CPU cost. */
  projectedRps16Cores: number;
  /** Worst measured p99 through the gateway, ms. */
  p99Ms: number;
  /** Worst added p99 (open loop) over the rates the gateway sustained, ms; null when none was sustained or measured. */
  addedP99Ms: number | null;
  /** Highest open-loop rate the gateway sustained (≥ 95 % of the rate completed, no errors), req/s; null when none. */
  maxSustainedRate: number | null;
  /** Open-loop rates the gateway did not sustain (saturated: queueing, errors); their latency says nothing about added latency. */
  saturatedRates: number[];
  /** added p99 < 10 ms (null when not measured). */
  latencyPass: boolean | null;
  /** projectedRps16Cores ≥ 100 000. */
  throughputPass: boolean;
}

/** A whole `npm run loadtest` invocation. */
export interface LoadtestResult {
  version: typeof LOADTEST_RESULT_VERSION;
  /** ISO time the run started. */
  date: string;
  /** The exact command line. */
  command: string;
  machine: MachineInfo;
  /** How the processes were pinned, in words (e.g. "gateway cpu0, generator+upstream cpu1"). */
  pinning: string;
  runs: ScenarioRun[];
  projections: Projection[];
}
