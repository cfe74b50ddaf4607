/**
 * One WebSocket bench: starts the uWS echo upstream and the gateway
 * (`turnpike start`, config/loadtest/websocket.yaml), checks an echo through
 * the gateway, then for each round runs every load straight to the upstream
 * and through the gateway, one after the other, sampling the gateway's CPU
 * and memory from /proc.
 */
import { fileURLToPath } from 'node:url';
import type { ProcessSet } from '../../native-bench/bench-procs.js';
import { addedLatency } from '../added-latency.js';
import { startGateway, TreeSampler, waitForOutput, type GatewayProc } from '../processes.js';
import type { WsBenchRun } from './ws-report.js';
import { openConnections, runWsLoad, type WsLoadResult } from './ws-load.js';

/** How to run the bench. */
export interface WsBenchOptions {
  set: ProcessSet;
  runDir: string;
  clkTck: number;
  workers: number;
  connections: number;
  /** Throughput mode: messages in flight per connection. */
  window: number;
  /** Payload bytes per message. */
  size: number;
  /** Latency mode: messages per second. */
  rates: number[];
  modes: Array<'throughput' | 'latency'>;
  durationS: number;
  warmupS: number;
  rounds: number;
  gatewayCpus?: string;
  upstreamCpus?: string;
  /** Called before each measured step. */
  onStep?: (label: string) => void;
}

/** The gateway path the config template routes to the echo upstream. */
export const WS_PATH = '/ws';

/** Starts the echo upstream (pinned like the generator); resolves with its port. */
async function startEcho(set: ProcessSet, cpus?: string): Promise<{ port: number; stop: () => Promise<void> }> {
  const script = fileURLToPath(new URL('../upstream/ws-echo-server.js', import.meta.url));
  const proc = set.start('ws echo upstream', process.execPath, [script, '--port', '0'], { cpus });
  const m = await waitForOutput(proc, /listening (\d+)/, 15_000);
  return { port: Number(m[1]), stop: () => set.stop(proc, 2000) };
}

/** One message through the gateway and back, or an Error saying what went wrong. */
async function verifyEcho(url: string): Promise<void> {
  const { conns, failed } = await openConnections(url, 1);
  if (failed > 0 || conns.length === 0) throw new Error(`websocket bench: cannot open ${url}`);
  const ws = conns[0];
  try {
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`websocket bench: no echo from ${url} within 5 s`)), 5000);
      ws.once('message', (d) => { clearTimeout(timer); resolve(d as Buffer); });
      ws.send(Buffer.from('turnpike-ws-bench'));
    });
    if (echoed.toString() !== 'turnpike-ws-bench') throw new Error(`websocket bench: wrong echo from ${url}`);
  } finally {
    ws.terminate();
  }
}

function toRun(
  o: WsBenchOptions, round: number, target: 'direct' | 'turnpike', r: WsLoadResult, load: { window: number | null; rate: number | null },
  gateway: { cpuSeconds: number; peakRssBytes: number } | null, direct: WsLoadResult | null,
): WsBenchRun {
  return {
    round, mode: r.mode, target, workers: target === 'direct' ? 0 : o.workers, connections: o.connections, window: load.window, rate: load.rate,
    size: o.size, durationS: o.durationS, sent: r.sent, completed: r.completed, unfinished: r.unfinished, errors: r.errors,
    messagesPerSec: r.messagesPerSec, latency: r.percentiles,
    added: direct === null ? null : addedLatency(r.percentiles, direct.percentiles),
    cpuUsPerMessage: gateway === null || r.completed === 0 ? null : (gateway.cpuSeconds * 1e6) / r.completed,
    rssMiB: gateway === null ? null : gateway.peakRssBytes / 2 ** 20,
  };
}

/** Runs the bench; returns every measured run (warm-ups are not returned). */
export async function runWsBench(o: WsBenchOptions): Promise<WsBenchRun[]> {
  const runs: WsBenchRun[] = [];
  const echo = await startEcho(o.set, o.upstreamCpus);
  let gw: GatewayProc | undefined;
  try {
    gw = await startGateway({ set: o.set, configFile: 'websocket.yaml', upstreamPort: echo.port, workers: o.workers, runDir: o.runDir, cpus: o.gatewayCpus });
    const urls = { direct: `ws://127.0.0.1:${echo.port}${WS_PATH}`, turnpike: `ws://127.0.0.1:${gw.port}${WS_PATH}` };
    await verifyEcho(urls.turnpike);
    const sampler = new TreeSampler(gw.proc.pid, o.clkTck);
    const loads: Array<{ window: number | null; rate: number | null }> = [];
    if (o.modes.includes('throughput')) loads.push({ window: o.window, rate: null });
    if (o.modes.includes('latency')) for (const rate of o.rates) loads.push({ window: null, rate });
    for (let round = 1; round <= o.rounds; round++) {
      for (const load of loads) {
        let direct: WsLoadResult | null = null;
        for (const target of ['direct', 'turnpike'] as const) {
          const base = { url: urls[target], connections: o.connections, size: o.size, ...(load.rate === null ? { window: load.window! } : { rate: load.rate }) };
          if (o.warmupS > 0) await runWsLoad({ ...base, durationMs: o.warmupS * 1000 });
          o.onStep?.(`round ${round}: ${load.rate === null ? `throughput (${load.window} in flight)` : `latency @${load.rate}/s`} ${target}`);
          if (target === 'turnpike') sampler.start();
          const r = await runWsLoad({ ...base, durationMs: o.durationS * 1000 });
          const m = target === 'turnpike' ? sampler.stop() : null;
          runs.push(toRun(o, round, target, r, load, m, target === 'turnpike' ? direct : null));
          if (target === 'direct') direct = r;
        }
      }
    }
  } finally {
    if (gw !== undefined) await o.set.stop(gw.proc, 5000);
    await echo.stop();
  }
  return runs;
}
