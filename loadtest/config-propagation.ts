/**
 * Config propagation from etcd: how long after a push each gateway instance
 * serves the new config. Starts a private etcd and 3 gateway instances
 * (TURNPIKE_CONFIG_SOURCE=etcd://…, distinct ports, 1 worker each) on this
 * box, then pushes N changes; push i adds the route `/v/<i>` (a fixed
 * response from a local upstream), and each instance is polled every
 * `--poll-ms` on a keep-alive connection until `/v/<i>` answers 200. The
 * time counts from the moment the put is sent (so it includes etcd's commit)
 * to the first 200 from that instance.
 *
 *   node dist/loadtest/config-propagation.js [--pushes 20] [--instances 3] [--poll-ms 2] [--gap-ms 2000] [--out results/config-propagation.md]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, request } from 'undici';
import { Etcd3 } from 'etcd3';
import { freePort, ProcessSet, type Managed } from '../native-bench/bench-procs.js';
import { startEtcd } from '../test/fixtures/etcd-server.js';
import { repoRoot } from './processes.js';

const PREFIX = '/turnpike/propagation';

function configYaml(upstreamPort: number, routes: number): string {
  const lines = [
    'server: { host: 127.0.0.1, port: 8080, workers: 1, gracePeriod: 2s, logLevel: warn }',
    'upstreams:',
    `  u: { targets: [ { url: "http://127.0.0.1:${upstreamPort}" } ] }`,
    'routes:',
    '  - { name: base, match: { path: /base }, upstream: u }',
  ];
  for (let i = 1; i <= routes; i++) lines.push(`  - { name: v${i}, match: { path: /v/${i} }, upstream: u }`);
  return lines.join('\n') + '\n';
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

function summary(values: number[]): { min: number; median: number; p90: number; max: number } {
  const s = [...values].sort((x, y) => x - y);
  return { min: s[0], median: percentile(s, 50), p90: percentile(s, 90), max: s[s.length - 1] };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      pushes: { type: 'string', default: '20' },
      instances: { type: 'string', default: '3' },
      'poll-ms': { type: 'string', default: '2' },
      'gap-ms': { type: 'string', default: '2000' },
      out: { type: 'string', default: 'results/config-propagation.md' },
    },
  });
  const pushes = Number(values.pushes);
  const instances = Number(values.instances);
  const pollMs = Number(values['poll-ms']);
  const gapMs = Number(values['gap-ms']);
  const root = repoRoot();
  const upstream = createServer((req, res) => { req.resume(); res.end('ok'); });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  const etcd = await startEtcd();
  const client = new Etcd3({ hosts: etcd.endpoint });
  const procs = new ProcessSet();
  const dir = mkdtempSync(join(os.tmpdir(), 'turnpike-propagation-'));
  const agent = new Agent({ connections: 2 * instances, keepAliveTimeout: 60_000 });
  process.on('exit', () => procs.killAllNow());
  try {
    await client.put(`${PREFIX}/config`).value(configYaml(upstreamPort, 0));
    const gateways: Array<{ proc: Managed; port: number }> = [];
    for (let i = 0; i < instances; i++) {
      const port = await freePort();
      const adminPort = await freePort();
      const proc = procs.start(`gateway ${i}`, process.execPath, [join(root, 'bin', 'turnpike.js'), 'start'], {
        cwd: root,
        env: {
          ...process.env,
          TURNPIKE_CONFIG_SOURCE: `etcd://127.0.0.1:${etcd.clientPort}${PREFIX}`,
          TURNPIKE_CONFIG_CACHE: join(dir, `cache-${i}.yaml`),
          TURNPIKE_PORT: String(port), TURNPIKE_ADMIN_PORT: String(adminPort), TURNPIKE_LOG_LEVEL: 'warn',
        },
      });
      gateways.push({ proc, port });
    }
    const status = async (port: number, path: string): Promise<number> => {
      const r = await request(`http://127.0.0.1:${port}${path}`, { dispatcher: agent });
      await r.body.dump();
      return r.statusCode;
    };
    for (const g of gateways) {
      const deadline = Date.now() + 30_000;
      while ((await status(g.port, '/base').catch(() => 0)) !== 200) {
        if (g.proc.exited() !== null || Date.now() > deadline) throw new Error(`${g.proc.name} did not start:\n${g.proc.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    // why: the spares are forked once the first generation is ready; a push before they loaded waits for them.
    await new Promise((r) => setTimeout(r, gapMs));
    const times: number[][] = gateways.map(() => []);
    const putTimes: number[] = [];
    for (let i = 1; i <= pushes; i++) {
      const path = `/v/${i}`;
      const text = configYaml(upstreamPort, i);
      const sent = performance.now();
      await client.put(`${PREFIX}/config`).value(text);
      putTimes.push(performance.now() - sent);
      await Promise.all(gateways.map(async (g, k) => {
        const deadline = Date.now() + 30_000;
        for (;;) {
          if ((await status(g.port, path).catch(() => 0)) === 200) break;
          if (Date.now() > deadline) throw new Error(`${g.proc.name} never served push ${i}:\n${g.proc.output()}`);
          await new Promise((r) => setTimeout(r, pollMs));
        }
        times[k].push(performance.now() - sent);
      }));
      process.stdout.write(`push ${i}: put ${putTimes[i - 1].toFixed(0)} ms; served after ${times.map((t) => t[t.length - 1].toFixed(0)).join(' / ')} ms\n`);
      // why: let the drained generation exit (and the spares refill) before the next push, so pushes do not overlap.
      await new Promise((r) => setTimeout(r, gapMs));
    }
    const rows = times.map((t, k) => ({ name: `instance ${k + 1}`, ...summary(t) }));
    const all = summary(times.flat());
    const slowest = summary(times[0].map((_, i) => Math.max(...times.map((t) => t[i]))));
    const fmt = (n: number): string => n.toFixed(0);
    const put = summary(putTimes);
    const model = /Model name:\s*(.+)/.exec(execFileSync('lscpu', { encoding: 'utf8' }))?.[1].trim() ?? os.cpus()[0]?.model ?? 'unknown';
    const md = [
      '# Config propagation from etcd',
      '',
      `Command: \`node dist/loadtest/config-propagation.js --pushes ${pushes} --instances ${instances} --poll-ms ${pollMs} --gap-ms ${gapMs}\` (\`npm run build\` first)`,
      '',
      `Machine: ${model}, ${os.cpus().length} cores; Node ${process.version}; etcd ${execFileSync('etcd', ['--version'], { encoding: 'utf8' }).split('\n')[0].replace(/^etcd Version:\s*/, '')}; 1-min load average at the end ${os.loadavg()[0].toFixed(1)}.`,
      '',
      `${instances} gateway instances (1 worker each) and one private etcd on this box. Each of ${pushes} pushes (${gapMs} ms apart once all instances serve the previous one) adds a route; time = from sending the put to the first 200 on the new route from that instance (polled every ${pollMs} ms). A push is applied as on SIGHUP: a new worker generation starts and listens before the old one drains. The etcd source keeps warm spare workers (pre-forked, modules loaded), so the time is mostly etcd → watch → validation → the spare compiling the config and listening, plus scheduling delay on this shared box. The first push comes ${gapMs} ms after all instances serve (a push before the spares have loaded waits for them, ~1-2 s on this box).`,
      '',
      '| instance | min ms | median ms | p90 ms | max ms |',
      '|---|---:|---:|---:|---:|',
      ...rows.map((r) => `| ${r.name} | ${fmt(r.min)} | ${fmt(r.median)} | ${fmt(r.p90)} | ${fmt(r.max)} |`),
      `| all | ${fmt(all.min)} | ${fmt(all.median)} | ${fmt(all.p90)} | ${fmt(all.max)} |`,
      `| slowest of the ${instances}, per push | ${fmt(slowest.min)} | ${fmt(slowest.median)} | ${fmt(slowest.p90)} | ${fmt(slowest.max)} |`,
      `| (the etcd put alone, included above) | ${fmt(put.min)} | ${fmt(put.median)} | ${fmt(put.p90)} | ${fmt(put.max)} |`,
      '',
      'Per push (put latency; then each instance):',
      '',
      '```',
      ...putTimes.map((p, i) => `push ${i + 1}: put ${fmt(p)} ms; served after ${times.map((t) => fmt(t[i])).join(' / ')} ms`),
      '```',
      '',
      `Target: every instance under 1 s. Pushes at or over 1 s on the slowest instance: ${times[0].filter((_, i) => Math.max(...times.map((t) => t[i])) >= 1000).length} of ${pushes}.`,
      '',
    ].join('\n');
    writeFileSync(join(root, values.out!), md);
    process.stdout.write('\n' + md);
  } finally {
    await procs.stopAll(3000);
    client.close();
    await agent.close();
    await etcd.close();
    upstream.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? err}\n`);
  process.exit(1);
});
