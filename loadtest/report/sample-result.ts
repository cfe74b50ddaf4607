/**
 * A realistic load-test result for the report tests (and for trying the
 * report by hand): two scenarios, closed loop at 1/2/4 workers, open loop
 * through the gateway and direct.
 */
import { LOADTEST_RESULT_VERSION, type LoadtestResult, type ScenarioRun } from '../result-types.js';

/** A closed-loop turnpike run with sensible numbers; fields overridable. */
export function sampleRun(over: Partial<ScenarioRun> = {}): ScenarioRun {
  return {
    scenario: 'rest-small', mode: 'closed', target: 'turnpike', workers: 1, connections: 64, rate: null,
    durationS: 10, requests: 120_000, rps: 12_000,
    latency: { p50: 4.1, p90: 6.2, p99: 9.9, p99_9: 15.2, max: 31.7 },
    curve: [
      { percentile: 0, ms: 0.6 }, { percentile: 50, ms: 4.1 }, { percentile: 90, ms: 6.2 },
      { percentile: 99, ms: 9.9 }, { percentile: 99.9, ms: 15.2 }, { percentile: 100, ms: 31.7 },
    ],
    added: null,
    errors: { connect: 0, timeout: 0, status5xx: 0, status4xx: 0, other: 0, unfinished: 0 },
    cpuUsPerRequest: 80.5, rpsPerCore: 12_422, rssMiB: 92.3,
    ...over,
  };
}

/** A whole result: rest-small at 1/2/4 workers closed, rest-small open (turnpike + direct), rest-16k closed. */
export function sampleResult(): LoadtestResult {
  return {
    version: LOADTEST_RESULT_VERSION,
    date: '2025-01-15T10:20:30.000Z',
    command: 'npm run loadtest -- --workers 1,2,4',
    machine: {
      cpuModel: 'Test CPU @ 2.0GHz', cores: 2, kernel: 'Linux 6.1.0', node: 'v20.18.1', nginx: 'not installed',
      wrk: 'not installed', haproxy: 'not installed', clkTck: 100, loadAvgStart: 0.42, gitCommit: 'abc1234', gitDirty: true,
    },
    pinning: 'gateway cpu0, generator+upstream cpu1',
    runs: [
      sampleRun(),
      sampleRun({ workers: 2, rps: 21_000, requests: 210_000, cpuUsPerRequest: 84.1, rssMiB: 150.2 }),
      sampleRun({ workers: 4, rps: 23_000, requests: 230_000, cpuUsPerRequest: 86.9, rssMiB: 260.8,
        errors: { connect: 2, timeout: 0, status5xx: 5, status4xx: 0, other: 0, unfinished: 0 } }),
      sampleRun({ mode: 'open', workers: 2, rate: 5000, rps: 4999, requests: 49_990,
        latency: { p50: 1.2, p90: 1.9, p99: 3.4, p99_9: 7.7, max: 12.0 },
        added: { p50: 0.4, p90: 0.6, p99: 1.1, p99_9: 2.9, max: 4.0 } }),
      sampleRun({ mode: 'open', target: 'direct', workers: 0, rate: 5000, rps: 5000, requests: 50_000,
        latency: { p50: 0.8, p90: 1.3, p99: 2.3, p99_9: 4.8, max: 8.0 }, curve: [],
        cpuUsPerRequest: null, rpsPerCore: null, rssMiB: null }),
      sampleRun({ scenario: 'rest-16k', workers: 2, rps: 9_000, requests: 90_000, cpuUsPerRequest: 140.2 }),
    ],
    projections: [
      { scenario: 'rest-small', cpuUsPerRequest: 80.5, coresFor100k: 8.05, projectedRps16Cores: 198_758, p99Ms: 9.9,
        addedP99Ms: 1.1, maxSustainedRate: 8000, saturatedRates: [], latencyPass: true, throughputPass: true },
      { scenario: 'rest-16k', cpuUsPerRequest: 140.2, coresFor100k: 14.02, projectedRps16Cores: 114_123, p99Ms: 9.9,
        addedP99Ms: null, maxSustainedRate: null, saturatedRates: [], latencyPass: null, throughputPass: true },
      { scenario: 'slow | bad', cpuUsPerRequest: 200, coresFor100k: 20, projectedRps16Cores: 80_000, p99Ms: 40,
        addedP99Ms: 12.5, maxSustainedRate: 500, saturatedRates: [2000], latencyPass: false, throughputPass: false },
    ],
  };
}
