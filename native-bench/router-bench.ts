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
import { mulberry32 } from '../src/lib/mulberry32.js';

const RESOURCES = [
  'users', 'orgs', 'teams', 'projects', 'invoices', 'orders', 'products', 'carts', 'payments', 'refunds',
  'customers', 'subscriptions', 'plans', 'coupons', 'webhooks', 'events', 'files', 'folders', 'comments', 'tags',
  'shipments',
];
const SUBS = ['items', 'history'];

interface Def { method: string; path: string }

/** ~300 REST routes shaped like a real public API. */
function routeDefs(): Def[] {
  const defs: Def[] = [
    { method: 'GET', path: '/v1/health' },
    { method: 'GET', path: '/v1/status' },
    { method: 'GET', path: '/v1/users/me' },
    { method: 'GET', path: '/v1/users/me/settings' },
    { method: 'GET', path: '/static/*' },
    { method: 'GET', path: '/docs/*' },
    { method: 'GET', path: '/v1/orgs/:org/repos/:repo/issues/:n' },
    { method: 'PATCH', path: '/v1/orgs/:org/repos/:repo/issues/:n' },
    { method: 'GET', path: '/v1/orgs/:org/repos/:repo/issues/:n/comments' },
    { method: 'GET', path: '/v1/orgs/:org/repos/:repo/pulls/:n/files' },
    { method: 'GET', path: '/v1/orgs/:org/repos/:repo/branches/:branch' },
  ];
  for (const r of RESOURCES) {
    defs.push({ method: 'GET', path: `/v1/${r}` }, { method: 'POST', path: `/v1/${r}` });
    for (const m of ['GET', 'PUT', 'PATCH', 'DELETE']) defs.push({ method: m, path: `/v1/${r}/:id` });
    for (const s of SUBS) {
      defs.push({ method: 'GET', path: `/v1/${r}/:id/${s}` }, { method: 'POST', path: `/v1/${r}/:id/${s}` });
      defs.push({ method: 'GET', path: `/v1/${r}/:id/${s}/:subId` }, { method: 'DELETE', path: `/v1/${r}/:id/${s}/:subId` });
    }
  }
  return defs;
}


interface Lookup { method: string; path: string; kind: string }

function lookups(count: number): Lookup[] {
  const rnd = mulberry32(42);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const id = (): string => String(1000 + Math.floor(rnd() * 90000));
  const out: Lookup[] = [];
  for (let i = 0; i < count; i++) {
    const x = rnd();
    const r = pick(RESOURCES);
    if (x < 0.15) out.push({ method: 'GET', path: pick(['/v1/health', '/v1/status', '/v1/users/me', `/v1/${r}`]), kind: 'static' });
    else if (x < 0.45) out.push({ method: pick(['GET', 'GET', 'PUT', 'DELETE']), path: `/v1/${r}/${id()}`, kind: 'param' });
    else if (x < 0.65) out.push({ method: 'GET', path: `/v1/${r}/${id()}/${pick(SUBS)}/${id()}`, kind: 'param' });
    else if (x < 0.75) out.push({ method: 'GET', path: `/v1/orgs/acme${id()}/repos/web/issues/${id()}`, kind: 'param' });
    else if (x < 0.85) out.push({ method: 'GET', path: pick(['/static/js/app.js', '/static/css/site.css', '/docs/guide/intro', '/static/img/logo.png']), kind: 'wildcard' });
    else out.push({ method: 'GET', path: pick([`/v2/${r}/${id()}`, `/v1/unknown/${id()}`, '/favicon.ico', `/v1/${r}/${id()}/nope`]), kind: 'miss' });
  }
  return out;
}

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
const list = lookups(2000).map((l) => ({ ...l, path: Buffer.from(l.path, 'latin1').toString('latin1') }));
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
