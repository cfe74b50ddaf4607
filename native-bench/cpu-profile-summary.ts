/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`): self and inclusive
 * time per function, time per code area (our src/, undici, uWS, node core,
 * GC), so the hot spots of a Turnpike worker can be read at a glance.
 *
 * Standalone: node dist/native-bench/cpu-profile-summary.js FILE.cpuprofile [topN]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** The parts of the .cpuprofile format this reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Time of one function (or area), in ms and % of all sampled time. */
export interface Hot {
  key: string;
  selfMs: number;
  totalMs: number;
  selfPct: number;
  totalPct: number;
}

/** The summary of one profile. */
export interface ProfileSummary {
  totalMs: number;
  /** Sampled time not idle, ms. */
  busyMs: number;
  areas: Hot[];
  /**
   * Time by owner: each sample goes to the deepest frame on its stack that is
   * our code or a node_modules package (so node-core and native work, e.g. a
   * socket write, counts for whoever asked for it); stacks with neither stay
   * "node core / native only".
   */
  owners: Hot[];
  functions: Hot[];
  /** Functions in our code (src/) only, by inclusive time. */
  ours: Hot[];
}

/** Which part of the process a frame belongs to. */
export function areaOf(url: string, fn: string): string {
  if (fn === '(idle)') return 'idle';
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'V8/native (program)';
  if (url.includes('/dist/src/') || (url.includes('/.cache/build-') && url.includes('/src/'))) return 'turnpike src/';
  if (url.includes('/node_modules/undici/')) return 'undici';
  if (url.includes('uWebSockets') || url.includes('uwebsockets')) return 'uWebSockets.js (JS glue)';
  if (url.includes('/node_modules/')) return 'other node_modules';
  if (url.startsWith('node:') || url === '') return fn === '' ? 'native/anonymous' : 'node core / native';
  return 'other';
}

function shortUrl(url: string): string {
  const i = url.indexOf('/dist/');
  if (i >= 0) return url.slice(i + 6).replace(/^src\//, 'src/');
  const n = url.lastIndexOf('/node_modules/');
  if (n >= 0) return url.slice(n + 14);
  return url;
}

/** The owner a frame stands for ('' = not an owner: node core, native, V8). */
function ownerOf(url: string, fn: string): string {
  const a = areaOf(url, fn);
  if (a === 'turnpike src/' || a === 'undici' || a === 'uWebSockets.js (JS glue)') return a;
  if (a === 'other node_modules') {
    const n = url.lastIndexOf('/node_modules/');
    return url.slice(n + 14).split('/')[0];
  }
  if (url.startsWith('wasm://')) return 'undici'; // llhttp, undici's HTTP parser
  return '';
}

/** Key of a frame: `function (file:line)`, line 1-based as in the compiled JS. */
export function frameKey(f: { functionName: string; url: string; lineNumber: number }): string {
  const name = f.functionName === '' ? '(anonymous)' : f.functionName;
  return f.url === '' ? name : `${name} (${shortUrl(f.url)}:${f.lineNumber + 1})`;
}

/** Computes self and inclusive time per function and per area. */
export function summariseProfile(p: CpuProfile, top = 25): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const area = new Map<string, number>();
  const isOurs = new Set<string>();
  const owner = new Map<string, number>();
  let all = 0;
  let idle = 0;
  const seen = new Set<string>();
  for (let i = 0; i < p.samples.length; i++) {
    // why: the delta after a sample is the time that sample stands for.
    const dt = (i + 1 < p.timeDeltas.length ? p.timeDeltas[i + 1] : 0) / 1000;
    const leaf = byId.get(p.samples[i]);
    if (leaf === undefined) continue;
    all += dt;
    const leafArea = areaOf(leaf.callFrame.url, leaf.callFrame.functionName);
    if (leafArea === 'idle') { idle += dt; continue; }
    area.set(leafArea, (area.get(leafArea) ?? 0) + dt);
    const lk = frameKey(leaf.callFrame);
    self.set(lk, (self.get(lk) ?? 0) + dt);
    seen.clear();
    let own = '';
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const n = byId.get(id)!;
      if (n.callFrame.functionName === '(root)') break;
      if (own === '') own = ownerOf(n.callFrame.url, n.callFrame.functionName);
      const k = frameKey(n.callFrame);
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
      if (areaOf(n.callFrame.url, n.callFrame.functionName) === 'turnpike src/') isOurs.add(k);
    }
    if (own === '') own = leafArea === 'GC' || leafArea === 'V8/native (program)' ? leafArea : 'node core / native only';
    owner.set(own, (owner.get(own) ?? 0) + dt);
  }
  const busy = all - idle;
  const hot = (key: string, s: number, t: number): Hot => ({
    key, selfMs: s, totalMs: t, selfPct: busy > 0 ? (100 * s) / busy : 0, totalPct: busy > 0 ? (100 * t) / busy : 0,
  });
  const functions = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)
    .map(([k, s]) => hot(k, s, total.get(k) ?? s));
  const ours = [...isOurs].map((k) => hot(k, self.get(k) ?? 0, total.get(k) ?? 0))
    .sort((a, b) => b.totalMs - a.totalMs).slice(0, top);
  const areas = [...area.entries()].sort((a, b) => b[1] - a[1]).map(([k, s]) => hot(k, s, s));
  const owners = [...owner.entries()].sort((a, b) => b[1] - a[1]).map(([k, t]) => hot(k, t, t));
  return { totalMs: all, busyMs: busy, areas, owners, functions, ours };
}

/** Markdown tables of a summary. */
export function formatProfileSummary(s: ProfileSummary): string {
  const row = (h: Hot): string => `| ${h.key.replace(/\|/g, '\\|')} | ${h.selfMs.toFixed(0)} | ${h.selfPct.toFixed(1)} | ${h.totalMs.toFixed(0)} | ${h.totalPct.toFixed(1)} |`;
  const head = '| function | self ms | self % | incl. ms | incl. % |\n|---|---:|---:|---:|---:|';
  return [
    `Sampled ${s.totalMs.toFixed(0)} ms, of which busy (not idle) ${s.busyMs.toFixed(0)} ms; percentages are of busy time.`,
    '',
    '**By area (self time)**',
    '',
    '| area | ms | % |', '|---|---:|---:|',
    ...s.areas.map((a) => `| ${a.key} | ${a.selfMs.toFixed(0)} | ${a.selfPct.toFixed(1)} |`),
    '',
    '**By owner** (node-core/native/wasm work is charged to the deepest src/ or package frame that called it; our src/ frames include the uWS native calls they make: cork, end, writeHeader, getRemoteAddressAsText, socket send)',
    '',
    '| owner | ms | % |', '|---|---:|---:|',
    ...s.owners.map((a) => `| ${a.key} | ${a.selfMs.toFixed(0)} | ${a.selfPct.toFixed(1)} |`),
    '',
    '**Top functions by self time**',
    '',
    head, ...s.functions.map(row),
    '',
    '**Our code (src/) by inclusive time**',
    '',
    head, ...s.ours.map(row),
  ].join('\n');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = process.argv[2];
  if (file === undefined) {
    process.stderr.write('usage: node cpu-profile-summary.js FILE.cpuprofile [topN]\n');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  process.stdout.write(formatProfileSummary(summariseProfile(profile, Number(process.argv[3] ?? 25))) + '\n');
}
