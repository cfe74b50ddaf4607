/**
 * Runs one scenario: starts its upstream, measures the open-loop rates
 * straight to the upstream (the baseline for added latency), then for each
 * worker count starts the gateway, checks that responses are right, warms up,
 * and runs the closed loop and/or the open-loop rates through it, sampling
 * the gateway's CPU and memory from /proc.
 */
import { Agent, request } from 'undici';
import type { ProcessSet } from '../native-bench/bench-procs.js';
import { addedLatency } from './added-latency.js';
import { runClosedLoop } from './closed-loop.js';
import { latencyCurveMs } from './latency-percentiles.js';
import { runOpenLoop, type OpenLoopResult } from './open-loop.js';
import { startGateway, startUpstream, TreeSampler, type GatewayProc } from './processes.js';
import type { ErrorCounts, LoadMode, ScenarioRun } from './result-types.js';
import type { Scenario, ScenarioRequest } from './scenarios/types.js';
import { makeTlsTarget } from './tls-target.js';

/** How to run a scenario. */
export interface RunScenarioOptions {
  scenario: Scenario;
  modes: LoadMode[];
  /** Gateway worker counts, one gateway start each. */
  workers: number[];
  durationS: number;
  warmupS: number;
  /** Closed-loop connections (default: the scenario's). */
  connections?: number;
  /** Open-loop rates (default: the scenario's). */
  rates?: number[];
  /** Open-loop connections (default 64). */
  openConnections?: number;
  set: ProcessSet;
  runDir: string;
  clkTck: number;
  gatewayCpus?: string;
  upstreamCpus?: string;
  /** Extra gateway environment. */
  gatewayEnv?: Record<string, string>;
  /** Progress: a label for the current step and its elapsed/total time. */
  onProgress?: (label: string, elapsedMs: number, totalMs: number) => void;
  /** Called when a step is over. */
  onStepDone?: (run: ScenarioRun) => void;
}

function openErrors(r: OpenLoopResult): ErrorCounts {
  return { ...r.errors, unfinished: r.unfinished };
}

/**
 * Sends each distinct request once through the gateway and checks the
 * answer; throws what is wrong. `ca`: the gateway serves https with a
 * certificate from this CA; `clientCert`: the one to present.
 */
export async function verifyScenario(scenario: Scenario, port: number, ca: Buffer | null = null, clientCert?: { cert: Buffer; key: Buffer }): Promise<void> {
  const seen = new Set<string>();
  const dispatcher = ca === null ? undefined : new Agent({ connect: { ca, ...clientCert } });
  try {
    for (const req of scenario.requests()) {
      const key = `${req.method} ${req.path}`;
      if (seen.has(key) || seen.size >= 8) continue;
      seen.add(key);
      const res = await request(`${ca === null ? 'http' : 'https'}://127.0.0.1:${port}${req.path}`, { method: req.method, headers: req.headers, body: req.body, dispatcher });
      const body = Buffer.from(await res.body.arrayBuffer());
      const wrong = scenario.verify(req, res.statusCode, body);
      if (wrong !== null) throw new Error(`scenario ${scenario.name}: ${key} through the gateway: ${wrong}`);
    }
  } finally {
    await dispatcher?.close();
  }
}

function baseRun(s: Scenario, mode: LoadMode, target: string, workers: number, connections: number, rate: number | null, durationS: number): Pick<ScenarioRun, 'scenario' | 'mode' | 'target' | 'workers' | 'connections' | 'rate' | 'durationS'> {
  return { scenario: s.name, mode, target, workers, connections, rate, durationS };
}

function openLoad(
  url: string, rate: number, durationS: number, connections: number, requests: ScenarioRequest[], onTick?: (ms: number) => void,
  tls?: { ca: Buffer; clientCert?: { cert: Buffer; key: Buffer } },
): Promise<OpenLoopResult> {
  const started = Date.now();
  const timer = onTick === undefined ? undefined : setInterval(() => onTick(Date.now() - started), 250);
  return runOpenLoop({ url, rate, durationMs: durationS * 1000, connections, requests, timeoutMs: 10_000, ca: tls?.ca, clientCert: tls?.clientCert, warmConnections: true })
    .finally(() => clearInterval(timer));
}

/** Runs the scenario as configured; returns every measured run (warm-ups are not returned). */
export async function runScenario(o: RunScenarioOptions): Promise<ScenarioRun[]> {
  const s = o.scenario;
  const scenarioVars = s.prepare?.() ?? {};
  const requests = s.requests();
  const connections = o.connections ?? s.connections;
  const openConnections = o.openConnections ?? s.openConnections ?? 64;
  const rates = o.rates ?? s.rates;
  const runs: ScenarioRun[] = [];
  const durMs = o.durationS * 1000;
  const progress = (label: string) => (ms: number): void => o.onProgress?.(label, ms, durMs);
  const done = (r: ScenarioRun): void => { runs.push(r); o.onStepDone?.(r); };
  const upstream = await startUpstream(o.set, s.upstreamDelayMs, o.upstreamCpus, s.upstreamKind ?? 'http');
  const direct = new Map<number, OpenLoopResult>();
  try {
    // A gRPC upstream cannot take the HTTP/JSON load directly: no baseline, so no added latency.
    if (o.modes.includes('open') && (s.upstreamKind ?? 'http') === 'http') {
      for (const rate of rates) {
        const url = `http://127.0.0.1:${upstream.port}`;
        if (o.warmupS > 0) await openLoad(url, rate, o.warmupS, openConnections, requests);
        const r = await openLoad(url, rate, o.durationS, openConnections, requests, progress(`${s.name} direct @${rate}/s`));
        direct.set(rate, r);
        done({
          ...baseRun(s, 'open', 'direct', 0, openConnections, rate, o.durationS),
          requests: r.completed, rps: r.completedRate, latency: r.percentiles, curve: latencyCurveMs(r.histogram),
          added: null, errors: openErrors(r), cpuUsPerRequest: null, rpsPerCore: null, rssMiB: null,
        });
      }
    }
    // A TLS scenario's certificates, made once per run.
    const tls = s.tls === undefined ? null : makeTlsTarget(o.runDir);
    const clientCert = s.tls === 'mtls' ? tls!.client : undefined;
    const openTls = tls === null ? undefined : { ca: tls.ca, clientCert };
    const servername = tls === null ? undefined : 'localhost';
    for (const workers of o.workers) {
      let gw: GatewayProc | undefined;
      try {
        gw = await startGateway({
          set: o.set, configFile: s.configFile, upstreamPort: upstream.port, workers, runDir: o.runDir, cpus: o.gatewayCpus, env: o.gatewayEnv,
          vars: { ...scenarioVars, ...tls?.vars },
        });
        await verifyScenario(s, gw.port, tls?.ca ?? null, clientCert);
        const url = `${tls === null ? 'http' : 'https'}://127.0.0.1:${gw.port}`;
        const sampler = new TreeSampler(gw.proc.pid, o.clkTck);
        if (o.modes.includes('closed')) {
          if (o.warmupS > 0) await runClosedLoop({ url, connections, durationS: o.warmupS, requests, servername, clientCert });
          sampler.start();
          const r = await runClosedLoop({
            url, connections, durationS: o.durationS, requests, servername, clientCert, onProgress: progress(`${s.name} closed ×${workers}w`),
          });
          const m = sampler.stop();
          done({
            ...baseRun(s, 'closed', 'turnpike', workers, connections, null, o.durationS),
            requests: r.requests, rps: r.rps, latency: r.latency, curve: r.curve, added: null, errors: r.errors,
            cpuUsPerRequest: r.requests > 0 ? (m.cpuSeconds * 1e6) / r.requests : null,
            rpsPerCore: m.cpuSeconds > 0 ? r.requests / m.cpuSeconds : null,
            rssMiB: m.peakRssBytes / 2 ** 20,
          });
        }
        if (o.modes.includes('open')) {
          for (const rate of rates) {
            if (o.warmupS > 0) await openLoad(url, rate, o.warmupS, openConnections, requests, undefined, openTls);
            sampler.start();
            const r = await openLoad(url, rate, o.durationS, openConnections, requests, progress(`${s.name} open @${rate}/s ×${workers}w`), openTls);
            const m = sampler.stop();
            const base = direct.get(rate);
            done({
              ...baseRun(s, 'open', 'turnpike', workers, openConnections, rate, o.durationS),
              requests: r.completed, rps: r.completedRate, latency: r.percentiles, curve: latencyCurveMs(r.histogram),
              added: base === undefined ? null : addedLatency(r.percentiles, base.percentiles),
              errors: openErrors(r),
              cpuUsPerRequest: r.completed > 0 ? (m.cpuSeconds * 1e6) / r.completed : null,
              rpsPerCore: m.cpuSeconds > 0 ? r.completed / m.cpuSeconds : null,
              rssMiB: m.peakRssBytes / 2 ** 20,
            });
          }
        }
      } finally {
        if (gw !== undefined) await o.set.stop(gw.proc, 5000);
      }
    }
  } finally {
    await o.set.stop(upstream.proc, 2000);
  }
  return runs;
}
