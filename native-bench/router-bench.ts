/**
 * Router micro-benchmark: Turnpike's router vs fastify's find-my-way on the
 * same ~300-route REST table and the same shuffled lookups, in one process,
 * alternating sides over several rounds. Prints a markdown report.
 *
 * Fairness: both sides match method + path and extract params (find-my-way
 * builds its params object; Turnpike writes a reused array). No route in the
 * table has predicates, no lookup path contains '%' or a query string, and
 * every lookup is checked to give the same route and params on both sides
 * before timing.
 *
 * Run: npx tsc -p .cache/tsconfig-router.json && node .cache/build-router/native-bench/router-bench.js
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import FindMyWay from 'find-my-way';
import { compileRouter } from '../src/router/compile-router.js';
import type { RequestLookup } from '../src/router/types.js';
import { makeRoute } from '../src/router/router-cases.js';
import type { RouteConfig } from '../src/config/types.js';
import { routeDefs, routeLookups } from './micro/route-table.js';

const NO_LOOKUP: RequestLookup = {
  header(): string {
    return '';
  },
  queryParam(): string | undefined {
    return undefined;
  },
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

const defs = routeDefs();
const configs: RouteConfig[] = defs.map((d, i) => makeRoute(i, `${d.method} ${d.path}`, d.path, { methods: [d.method] }));
const turnpike = compileRouter(configs);
const fmw = FindMyWay();
for (const d of defs) fmw.on(d.method as 'GET', d.path, function handler() {}, { name: `${d.method} ${d.path}` });

// why: request paths arrive as fresh flat strings (uWS copies them out of the
// socket buffer); template-literal cons strings would skew both sides.
const list = routeLookups(2000).map((l) => ({ ...l, path: Buffer.from(l.path, 'latin1').toString('latin1') }));
const params: string[] = [];

// Same answers on both sides (route identity and params), or the comparison is void.
for (const l of list) {
  const ours = turnpike.match(l.method, '', l.path, NO_LOOKUP, params);
  const theirs = fmw.find(l.method as 'GET', l.path);
  const ourName = ours !== null && ours.kind === 'route' ? ours.name : null;
  const theirName = theirs === null ? null : (theirs.store as { name: string }).name;
  if (ourName !== theirName) throw new Error(`disagree on ${l.method} ${l.path}: turnpike=${ourName} find-my-way=${theirName}`);
  if (theirs !== null && JSON.stringify(Object.values(theirs.params)) !== JSON.stringify(params)) {
    throw new Error(`params disagree on ${l.path}: ${JSON.stringify(params)} vs ${JSON.stringify(theirs.params)}`);
  }
}

let sink = 0;
function runTurnpike(passes: number): number {
  const t0 = process.hrtime.bigint();
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < list.length; i++) {
      const l = list[i];
      const r = turnpike.match(l.method, '', l.path, NO_LOOKUP, params);
      if (r !== null) sink += params.length + 1;
    }
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}
function runFmw(passes: number): number {
  const t0 = process.hrtime.bigint();
  for (let p = 0; p < passes; p++) {
    for (let i = 0; i < list.length; i++) {
      const l = list[i];
      const r = fmw.find(l.method as 'GET', l.path);
      if (r !== null) sink += r.params === null ? 1 : 2;
    }
  }
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const ROUNDS = Number(process.env.ROUNDS ?? 9);
const PASSES = Number(process.env.PASSES ?? 200);
runTurnpike(50); // warm-up: let both sides reach optimised code
runFmw(50);
const ours: number[] = [];
const theirs: number[] = [];
for (let round = 0; round < ROUNDS; round++) {
  // why: alternate which side runs first so drift (thermal, GC, neighbours) cancels.
  if (round % 2 === 0) {
    ours.push((PASSES * list.length) / runTurnpike(PASSES));
    theirs.push((PASSES * list.length) / runFmw(PASSES));
  } else {
    theirs.push((PASSES * list.length) / runFmw(PASSES));
    ours.push((PASSES * list.length) / runTurnpike(PASSES));
  }
}

const cpuModel = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? os.cpus()[0]?.model ?? 'unknown';
const mix = list.reduce<Record<string, number>>((acc, l) => ((acc[l.kind] = (acc[l.kind] ?? 0) + 1), acc), {});
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const lines = [
  `Machine: ${cpuModel}, ${os.cpus().length} cores, Linux ${os.release()}, Node ${process.version}`,
  `Routes: ${defs.length} (static, :param up to 3 deep, 2 wildcards; ${new Set(defs.map((d) => d.method)).size} methods)`,
  `Lookups: ${list.length} shuffled (${Object.entries(mix).map(([k, v]) => `${k} ${v}`).join(', ')}), ${PASSES} passes per round, ${ROUNDS} rounds alternating`,
  '',
  '| round | turnpike lookups/s | find-my-way lookups/s |',
  '|---:|---:|---:|',
  ...ours.map((o, i) => `| ${i + 1} | ${fmt(o)} | ${fmt(theirs[i])} |`),
  `| **median** | **${fmt(median(ours))}** | **${fmt(median(theirs))}** |`,
  '',
  `Ratio turnpike / find-my-way (medians): **${(median(ours) / median(theirs)).toFixed(2)}x**`,
];
console.log(lines.join('\n'));
if (sink === 0) console.log('(sink)');
