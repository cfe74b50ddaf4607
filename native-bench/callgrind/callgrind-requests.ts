/**
 * Instructions per request of a gateway worker, counted by callgrind:
 * deterministic where CPU time on a shared VM moves ±10% from run to run,
 * so a few-percent difference between two configs (tracing off and at 1%,
 * say) can be read at all. User-space instructions only: the kernel's part
 * of a request is not in these counts (the interleaved A/B and the load
 * tests measure it, noisily).
 *
 * For each load-test scenario config (config/loadtest/<name>.yaml, or a
 * template path ending in .yaml, rendered like the load test renders it), one worker runs in a node process under
 * `valgrind --tool=callgrind` with instrumentation off; the real load-test
 * upstream runs outside valgrind. After a warm-up, instrumentation is
 * switched on (callgrind_control) for `--requests` requests sent by this
 * process over keep-alive connections, and the main thread's count is
 * dumped; that is repeated `--samples` times, scenarios interleaved, in
 * `--processes` fresh workers per scenario. The figure per scenario is the
 * median over its processes of each process's median sample.
 *
 *   node dist/native-bench/callgrind/callgrind-requests.js --scenario passthrough,tracing-1pct \
 *     [--requests 3000] [--warmup 4000] [--samples 3] [--processes 3] [--connections 8] [--node-args=--perf-basic-prof]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { freePort, ProcessSet, type Managed } from '../bench-procs.js';
import { renderTemplate } from '../bench-template.js';
import { repoRoot, startUpstream, waitForOutput } from '../../loadtest/processes.js';

interface Side {
  name: string;
  proc: Managed;
  pid: number;
  pool: Pool;
  counts: number[];
}

/** Sends `n` GET requests, `width` at a time; rejects on a non-200. */
async function send(pool: Pool, n: number, width: number): Promise<void> {
  let left = n;
  async function lane(): Promise<void> {
    while (left > 0) {
      left--;
      const res = await pool.request({ method: 'GET', path: '/api/hello' });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
    }
  }
  await Promise.all(Array.from({ length: width }, lane));
}

/**
 * Instructions (Ir) of the main thread in dump `part` of `pid`. why: V8
 * compiles and sweeps on helper threads at moments no run controls; those
 * bursts moved whole samples by 2–3×, while the main thread (the request
 * path, scavenges, the event loop) is what a request costs the worker.
 */
function lastDumpTotal(dir: string, pid: number, part: number): number {
  const file = readdirSync(dir).find((f) => f === `cg.${pid}.${part}-01`);
  if (file === undefined) throw new Error(`no callgrind dump ${part} for ${pid} in ${dir}`);
  const m = /^totals: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'));
  if (m === null) throw new Error(`no totals in ${file}`);
  return Number(m[1]);
}

/** One callgrind_control command to a worker (its chatter discarded). */
function control(flag: string, pid: number, arg?: string): void {
  execFileSync('callgrind_control', arg === undefined ? [flag, String(pid)] : [flag, arg, String(pid)], { stdio: 'ignore' });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Starts one worker under callgrind for `template` and warms it up. */
async function startSide(set: ProcessSet, dir: string, name: string, upstreamPort: number, nodeArgs: string[],
  warmup: number, width: number): Promise<Side> {
  const port = await freePort();
  const template = name.endsWith('.yaml') ? name : join(repoRoot(), 'config', 'loadtest', `${name}.yaml`);
  const text = renderTemplate(readFileSync(template, 'utf8'), { PORT: port, ADMIN_PORT: await freePort(), UPSTREAM_PORT: upstreamPort });
  const file = join(dir, `${port}.yaml`);
  writeFileSync(file, text);
  const proc = set.start(`worker ${name}`, 'valgrind', [
    '--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', '--separate-threads=yes', `--callgrind-out-file=${dir}/cg.%p`,
    process.execPath, ...nodeArgs, join(repoRoot(), 'dist', 'native-bench', 'callgrind', 'worker-entry.js'), file,
  ], { env: { ...process.env, TURNPIKE_ACCESS_LOG: 'off', TURNPIKE_WORKERS: '1' } });
  await waitForOutput(proc, /ready \d+/, 180_000);
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: width, pipelining: 1 });
  await send(pool, warmup, width);
  return { name, proc, pid: proc.pid!, pool, counts: [] };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: 'string', default: 'passthrough,tracing-1pct' }, requests: { type: 'string', default: '3000' },
      warmup: { type: 'string', default: '4000' }, samples: { type: 'string', default: '3' }, connections: { type: 'string', default: '8' },
      // A worker's JIT settles differently in each process (inlining, deopts): one process per side
      // moved the steady count by up to ±15%, so each side gets several processes.
      processes: { type: 'string', default: '3' },
      // e.g. --perf-basic-prof, so that /tmp/perf-<pid>.map names the JIT code in the dumps
      'node-args': { type: 'string', default: '' },
    },
  });
  const names = values.scenario!.split(',');
  const requests = Number(values.requests);
  const width = Number(values.connections);
  const nodeArgs = values['node-args']!.split(' ').filter(Boolean);
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-callgrind-'));
  const set = new ProcessSet();
  /** Per scenario: the median count of each of its processes. */
  const perProcess = new Map<string, number[]>(names.map((n) => [n, []]));
  try {
    const upstream = await startUpstream(set, 0);
    for (let p = 0; p < Number(values.processes); p++) {
      const sides: Side[] = [];
      try {
        // why: the order of starts and samples rotates with p, so no side is always first.
        const order = names.map((_, i) => names[(i + p) % names.length]);
        for (const name of order) sides.push(await startSide(set, dir, name, upstream.port, nodeArgs, Number(values.warmup), width));
        for (let s = 0; s < Number(values.samples); s++) {
          for (const side of s % 2 === 0 ? sides : [...sides].reverse()) {
            control('-z', side.pid);
            control('-i', side.pid, 'on');
            await send(side.pool, requests, width);
            control('-i', side.pid, 'off');
            control('-d', side.pid);
            const perRequest = lastDumpTotal(dir, side.pid, s + 1) / requests;
            side.counts.push(perRequest);
            process.stdout.write(`process ${p + 1} sample ${s + 1} ${side.name}: ${Math.round(perRequest)} instructions/request\n`);
          }
        }
        for (const side of sides) perProcess.get(side.name)!.push(median(side.counts));
      } finally {
        for (const side of sides) await side.pool.close();
        for (const side of sides) await set.stop(side.proc, 5000);
      }
    }
  } finally {
    await set.stopAll(5000);
  }
  const base = median(perProcess.get(names[0])!);
  for (const name of names) {
    const xs = perProcess.get(name)!;
    const m = median(xs);
    process.stdout.write(`${name.padEnd(18)} median of process medians ${Math.round(m)} instructions/request `
      + `(${xs.map((c) => Math.round(c)).join(', ')}), ÷ ${names[0]} ${(m / base).toFixed(3)}\n`);
  }
  process.stdout.write(`dumps in ${dir}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`callgrind-requests: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
