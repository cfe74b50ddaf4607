/**
 * Service discovery churn under load: a closed-loop load (autocannon) runs
 * through the gateway (`turnpike start`, real worker processes) for D
 * seconds while the upstream's targets are registered and deregistered in a
 * private etcd every ~500 ms, with leases as services do (register: lease
 * put; deregister: lease revoke). At least one target stays registered
 * throughout, and every target process keeps running (a deregistered
 * service finishes what it has in flight), so any failed or non-2xx
 * request is a request discovery dropped.
 *
 *   node dist/loadtest/discovery-churn.js [--duration 10] [--connections 32] [--targets 4] [--every 500] [--workers 2] [--out results/discovery-churn.md]
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Etcd3, type Lease } from 'etcd3';
import { ProcessSet } from '../native-bench/bench-procs.js';
import { formatMachine, machineInfo } from '../native-bench/machine-info.js';
import { startEtcd } from '../test/fixtures/etcd-server.js';
import { runClosedLoop } from './closed-loop.js';
import { repoRoot, startGateway, startUpstream } from './processes.js';

const PREFIX = '/services/churn/';

function template(etcdEndpoint: string): string {
  return `server: { host: 127.0.0.1, port: {{PORT}}, logLevel: warn, gracePeriod: 1s }
admin: { host: 127.0.0.1, port: {{ADMIN_PORT}} }
upstreams:
  churn:
    discovery: { etcd: { prefix: ${PREFIX}, endpoints: [ "${etcdEndpoint}" ] } }
routes:
  - name: churn
    match: { path: /churn/* }
    upstream: churn
`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: {
    duration: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' },
    targets: { type: 'string', default: '4' }, every: { type: 'string', default: '500' },
    workers: { type: 'string', default: '2' }, out: { type: 'string' },
  } });
  const durationS = Number(values.duration);
  const connections = Number(values.connections);
  const targetCount = Number(values.targets);
  const everyMs = Number(values.every);
  const workers = Number(values.workers);
  const repo = repoRoot();
  const runDir = mkdtempSync(join(tmpdir(), 'turnpike-churn-'));
  const etcd = await startEtcd();
  const client = new Etcd3({ hosts: etcd.endpoint });
  const set = new ProcessSet();
  process.on('exit', () => set.killAllNow());
  const leases = new Map<number, Lease>();
  let registers = 0;
  let deregisters = 0;
  let result;
  let stopChurn = false;
  try {
    const ports: number[] = [];
    for (let i = 0; i < targetCount; i++) ports.push((await startUpstream(set, 0)).port);
    const register = async (i: number): Promise<void> => {
      const lease = client.lease(10);
      leases.set(i, lease);
      await lease.put(PREFIX + 'target-' + i).value(JSON.stringify({ url: `http://127.0.0.1:${ports[i]}`, weight: 1 }));
      registers++;
    };
    const deregister = async (i: number): Promise<void> => {
      const lease = leases.get(i)!;
      leases.delete(i);
      await lease.revoke();
      deregisters++;
    };
    for (let i = 0; i < Math.ceil(targetCount / 2); i++) await register(i);
    const file = join(runDir, 'churn.yaml');
    writeFileSync(file, template(etcd.endpoint));
    const gw = await startGateway({ set, configFile: file, upstreamPort: 0, workers, runDir });
    // Churn: every `everyMs`, register one unregistered target or deregister one registered (never the last).
    const churn = (async () => {
      let step = 0;
      while (!stopChurn) {
        await new Promise((r) => setTimeout(r, everyMs));
        if (stopChurn) break;
        const registered = [...leases.keys()];
        const free = ports.map((_p, i) => i).filter((i) => !leases.has(i));
        const add = registered.length <= 1 || (free.length > 0 && (step % 2 === 0 || registered.length < 2));
        if (add && free.length > 0) await register(free[(step * 7) % free.length]);
        else await deregister(registered[(step * 5) % registered.length]);
        step++;
      }
    })();
    result = await runClosedLoop({ url: `http://127.0.0.1:${gw.port}`, connections, durationS, requests: [{ method: 'GET', path: '/churn/1' }] });
    stopChurn = true;
    await churn;
  } finally {
    stopChurn = true;
    for (const l of leases.values()) await l.revoke().catch(() => undefined);
    client.close();
    await set.stopAll();
    await etcd.close();
    rmSync(runDir, { recursive: true, force: true });
  }
  const e = result.errors;
  const non2xx = e.status4xx + e.status5xx;
  const failed = e.connect + e.timeout + e.other + e.unfinished;
  const machine = formatMachine(await machineInfo(repo));
  const text = `# Service discovery churn under load

A closed-loop load (autocannon, ${connections} connections, ${durationS} s, \`GET /churn/1\`) through the gateway
(\`turnpike start\`, ${workers} workers) while the upstream's targets (${targetCount} load-test upstream processes) are
registered and deregistered in a private etcd every ${everyMs} ms with leases (register: a put under a 10 s lease;
deregister: the lease revoked). At least one target stays registered; the target processes keep running, so every
failure would be a request that discovery dropped. Each worker runs its own etcd watcher.

Command: \`node dist/loadtest/discovery-churn.js --duration ${durationS} --connections ${connections} --targets ${targetCount} --every ${everyMs} --workers ${workers}\`

Machine: ${machine}

| requests | req/s | non-2xx | errors (connect/timeout/other/unfinished) | registrations | deregistrations | p50 ms | p99 ms |
|---:|---:|---:|---|---:|---:|---:|---:|
| ${result.requests} | ${Math.round(result.rps)} | ${non2xx} | ${failed} (${e.connect}/${e.timeout}/${e.other}/${e.unfinished}) | ${registers} | ${deregisters} | ${result.latency.p50.toFixed(2)} | ${result.latency.p99.toFixed(2)} |
`;
  if (values.out !== undefined) writeFileSync(values.out, text);
  process.stdout.write('\n' + text);
}

main().catch((err: unknown) => {
  process.stderr.write((err instanceof Error ? err.stack ?? err.message : String(err)) + '\n');
  process.exit(1);
});
