/**
 * Interleaved A/B of two Turnpike builds (or two sets of node flags) on one
 * native-bench scenario: same origin, same wrk load, rounds alternating
 * A,B / B,A so drift on a shared machine hits both. Prints each run and the
 * median CPU µs per request of each side with the B÷A ratio.
 *
 *   node dist/native-bench/turnpike-ab.js --a /path/to/checkout-a --b . \
 *     [--a-node-args "--flag"] [--b-node-args "--flag"] [--scenario tiny] [--rounds 4] [--duration 6]
 *
 * A checkout is a directory with bin/turnpike.js and a built dist/ (for
 * instance a `git worktree` of another commit with `npx tsc -p .` run in it).
 */
import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ProcessSet } from './bench-procs.js';
import { measureRun, type LoadOptions } from './bench-run.js';
import { pickScenarios, prepareScenario } from './bench-scenarios.js';
import { startOrigin, startProxy } from './proxy-targets.js';
import { startUpstream } from '../loadtest/processes.js';

interface Side {
  name: string;
  dir: string;
  nodeArgs: string[];
  cpuUs: number[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 === 1 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function splitArgs(text: string | undefined): string[] {
  return text === undefined || text.trim() === '' ? [] : text.trim().split(/\s+/);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2), strict: true,
    options: {
      a: { type: 'string', default: '.' }, b: { type: 'string', default: '.' },
      'a-node-args': { type: 'string' }, 'b-node-args': { type: 'string' },
      scenario: { type: 'string', default: 'tiny' }, rounds: { type: 'string', default: '4' },
      duration: { type: 'string', default: '6' }, connections: { type: 'string', default: '50' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('usage: turnpike-ab --a DIR --b DIR [--a-node-args ARGS] [--b-node-args ARGS] [--scenario tiny] [--rounds 4] [--duration 6]');
    return;
  }
  const sides: Side[] = [
    { name: 'A', dir: resolve(values.a!), nodeArgs: splitArgs(values['a-node-args']), cpuUs: [] },
    { name: 'B', dir: resolve(values.b!), nodeArgs: splitArgs(values['b-node-args']), cpuUs: [] },
  ];
  const runDir = mkdtempSync(join(tmpdir(), 'turnpike-ab-'));
  chmodSync(runDir, 0o755); // nginx workers read the origin's files
  const set = new ProcessSet();
  const scenario = prepareScenario(pickScenarios([values.scenario!])[0], runDir);
  const load: LoadOptions = {
    connections: Number(values.connections), threads: 1, durationS: Number(values.duration), warmupS: 2, cpus: '1', clkTck: 100,
  };
  try {
    const origin = scenario.origin.kind === 'nginx'
      ? await startOrigin({ set, runDir, repoDir: sides[1].dir, cpus: '1' })
      : await startUpstream(set, scenario.origin.delayMs, '1');
    const originPid = origin.proc.pid;
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const p = await startProxy('turnpike', origin.port, {
          set, runDir, repoDir: side.dir, cpus: '0', nodeArgs: side.nodeArgs, tag: side.name, routing: scenario.routing,
          probePath: scenario.probePath, upstreamPool: scenario.upstreamPool, cache: scenario.cache,
        });
        const m = await measureRun(set, { name: side.name, port: p.port, pid: p.proc.pid }, originPid, scenario, round, load);
        side.cpuUs.push(m.proxyCpuUsPerReq);
        console.log(`round ${round + 1} ${side.name}: ${m.proxyCpuUsPerReq.toFixed(1)} µs/req (kernel ${m.proxySysUsPerReq.toFixed(1)}), `
          + `${Math.round(m.wrk.rps)} req/s, p99 ${(m.wrk.p99Us / 1000).toFixed(2)} ms, others ${m.otherCpuPct.toFixed(0)}%`);
        await set.stop(p.proc);
      }
    }
  } finally {
    await set.stopAll(2000);
  }
  const a = median(sides[0].cpuUs);
  for (const s of sides) {
    console.log(`${s.name} ${s.dir} ${s.nodeArgs.join(' ')}: median ${median(s.cpuUs).toFixed(1)} µs/req `
      + `(${s.cpuUs.map((x) => x.toFixed(1)).join(', ')})`);
  }
  console.log(`B ÷ A CPU per request: ${(median(sides[1].cpuUs) / a).toFixed(3)}`);
}

main().catch((err: unknown) => {
  console.error('turnpike-ab:', err instanceof Error ? err.message : err);
  process.exit(1);
});
