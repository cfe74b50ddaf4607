/**
 * Upstream load during a full outage: how many requests reach an upstream
 * that fails every request, per client request, with retries and the
 * circuit breaker on or off. Each variant runs the same closed-loop load
 * (autocannon, N connections, D seconds) against its own gateway (one
 * worker) in front of the same failing upstream, which counts what reaches
 * it. The upstream is a node:http server in this process answering `503` at
 * once (`--fail 503`), or resetting every connection (`--fail reset`).
 *
 *   node dist/loadtest/outage-bench.js [--duration 5] [--connections 32] [--fail 503|reset] [--out results/outage.md]
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ProcessSet } from '../native-bench/bench-procs.js';
import { formatMachine, machineInfo } from '../native-bench/machine-info.js';
import { runClosedLoop } from './closed-loop.js';
import { repoRoot, startGateway } from './processes.js';

/** One gateway configuration under test: the upstream's and the route's resilience settings. */
interface Variant {
  name: string;
  upstream: string;
  route: string;
}

const RETRY = 'retry: { attempts: 2, on: [ connect-failure, 502, 503, 504, reset ] }';
const BREAKER = 'circuitBreaker: { failureRate: 50%, minRequests: 20, window: 10s, consecutiveFailures: 5, openFor: 15s, halfOpenRequests: 3 }';

const VARIANTS: Variant[] = [
  { name: 'no retries, no breaker', upstream: '', route: '' },
  { name: 'retries, unlimited budget', upstream: 'retryBudget: { ratio: 100%, minRetries: 100000 }', route: RETRY },
  { name: 'retries (default budget 20%, min 3)', upstream: '', route: RETRY },
  { name: 'breaker, no retries', upstream: BREAKER, route: '' },
  { name: 'retries + breaker', upstream: BREAKER, route: RETRY },
];

function template(v: Variant): string {
  return `server: { host: 127.0.0.1, port: {{PORT}}, logLevel: error, gracePeriod: 1s }
log: { access: false }
admin: { host: 127.0.0.1, port: {{ADMIN_PORT}} }
upstreams:
  orders:
    targets: [ { url: "http://127.0.0.1:{{UPSTREAM_PORT}}" } ]
    passiveHealth: { consecutiveFailures: 0 }
${v.upstream === '' ? '' : '    ' + v.upstream + '\n'}routes:
  - name: orders
    match: { path: /orders/* }
    upstream: orders
${v.route === '' ? '' : '    ' + v.route + '\n'}`;
}

/** The failing upstream: counts requests (or connections, for `reset`). */
function failingUpstream(mode: string): Promise<{ server: Server; port: number; count(): number; reset(): void }> {
  let n = 0;
  const server = createServer((req, res) => {
    n++;
    req.resume();
    res.writeHead(503, { 'content-type': 'text/plain', 'content-length': '4' });
    res.end('down');
  });
  if (mode === 'reset') {
    server.removeAllListeners('request');
    server.on('connection', (s: Socket) => { n++; s.resetAndDestroy(); });
  }
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as { port: number }).port;
    resolve({ server, port, count: () => n, reset: () => { n = 0; } });
  }));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '32' },
    fail: { type: 'string', default: '503' }, out: { type: 'string' },
  } });
  const durationS = Number(values.duration);
  const connections = Number(values.connections);
  const repo = repoRoot();
  const runDir = mkdtempSync(join(tmpdir(), 'turnpike-outage-'));
  const up = await failingUpstream(values.fail!);
  const set = new ProcessSet();
  process.on('exit', () => set.killAllNow());
  const rows: string[] = [];
  try {
    for (const v of VARIANTS) {
      const file = join(runDir, v.name.replace(/[^a-z0-9]+/gi, '-') + '.yaml');
      writeFileSync(file, template(v));
      const gw = await startGateway({ set, configFile: file, upstreamPort: up.port, workers: 1, runDir });
      up.reset();
      const r = await runClosedLoop({ url: `http://127.0.0.1:${gw.port}`, connections, durationS, requests: [{ method: 'GET', path: '/orders/1' }] });
      const upstream = up.count();
      rows.push(`| ${v.name} | ${r.requests} | ${upstream} | ${(upstream / Math.max(1, r.requests)).toFixed(3)} | ${Math.round(r.rps)} | ${r.latency.p50.toFixed(2)} | ${r.latency.p99.toFixed(2)} |`);
      process.stdout.write(rows[rows.length - 1] + '\n');
      await set.stop(gw.proc);
    }
  } finally {
    await set.stopAll();
    up.server.close();
    rmSync(runDir, { recursive: true, force: true });
  }
  const machine = formatMachine(await machineInfo(repo));
  const text = `# Upstream load during a full outage

The upstream fails every request (\`--fail ${values.fail}\`: ${values.fail === 'reset' ? 'every connection is reset' : 'an immediate 503'}).
Closed loop, ${connections} connections, ${durationS} s per variant, one gateway worker; passive ejection off
(\`passiveHealth.consecutiveFailures: 0\`) so only the retry budget and the breaker limit the load.

Command: \`node dist/loadtest/outage-bench.js --duration ${durationS} --connections ${connections} --fail ${values.fail}\`

Machine: ${machine}

| variant | client requests | upstream ${values.fail === 'reset' ? 'connections' : 'requests'} | upstream ÷ client | client req/s | p50 ms | p99 ms |
|---|---:|---:|---:|---:|---:|---:|
${rows.join('\n')}
`;
  if (values.out !== undefined) writeFileSync(values.out, text);
  process.stdout.write('\n' + text);
}

main().catch((err: unknown) => {
  process.stderr.write((err instanceof Error ? err.stack ?? err.message : String(err)) + '\n');
  process.exit(1);
});
