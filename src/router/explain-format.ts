/**
 * Human text for `turnpike explain` and `turnpike routes`.
 */
import type { Router } from './compile-router.js';
import type { CompiledRoute } from './compiled-route.js';
import type { ExplainTrace } from './explain.js';
import { forEachRouteSet } from './radix-tree.js';
import type { HostTable } from './host-table.js';

/** Renders an explain trace as text (one candidate per line, reasons indented). */
export function formatExplain(trace: ExplainTrace): string {
  const q = trace.request.query.length > 0 ? '?' + trace.request.query.replace(/^\?/, '') : '';
  const lines: string[] = [];
  lines.push(`Request: ${trace.request.method} ${trace.request.path}${q}  host "${trace.request.host}" (normalised "${trace.request.normalisedHost}")`);
  const hdrs = Object.entries(trace.request.headers);
  if (hdrs.length > 0) lines.push(`Headers: ${hdrs.map(([k, v]) => `${k.toLowerCase()}: ${v}`).join('; ')}`);
  lines.push(`Host tables searched, in order: ${trace.hostTables.length > 0 ? trace.hostTables.join(' -> ') : '(none)'}`);
  lines.push('Candidates (config order):');
  for (const c of trace.candidates) {
    const tag = c.verdict === 'winner' ? 'WINNER   ' : c.verdict === 'outranked' ? 'OUTRANKED' : 'rejected ';
    lines.push(`  ${tag} #${c.index} ${c.route}  [${c.host} ${c.methods} ${c.path}]`);
    for (const r of c.reasons) lines.push(`      - ${r}`);
  }
  const res = trace.result;
  let outcome: string;
  if (res.kind === 'route') {
    const ps = Object.entries(res.params);
    outcome = `route ${res.route}${ps.length > 0 ? ' with ' + ps.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ') : ''}`;
  } else if (res.kind === 'method-not-allowed') {
    outcome = `405 Method Not Allowed (Allow: ${res.allow.join(', ')})`;
  } else if (res.kind === 'bad-path') {
    outcome = '400 Bad Request (malformed percent-escape in a path parameter)';
  } else {
    outcome = '404 Not Found';
  }
  lines.push(`Result: ${outcome}`);
  lines.push(`Why: ${trace.decidedBy}`);
  return lines.join('\n') + '\n';
}

function predicates(r: CompiledRoute): string {
  const parts: string[] = [];
  for (let i = 0; i < r.headerNames.length; i++) parts.push(`header ${r.headerNames[i]}=${r.headerValues[i]}`);
  for (let i = 0; i < r.queryNames.length; i++) parts.push(`query ${r.queryNames[i]}=${r.queryValues[i]}`);
  return parts.length > 0 ? parts.join(' & ') : '-';
}

function target(r: CompiledRoute): string {
  const agg = r.config.aggregate;
  if (agg !== undefined) {
    const calls = agg.calls.map((c) => `${c.name}:${c.upstream}${c.optional ? '?' : ''}${c.after.length > 0 ? ` after ${c.after.join('+')}` : ''}`);
    return `aggregate[${calls.join(', ')}]`;
  }
  if (r.split !== null) {
    const total = r.split.reduce((s, e) => s + e.weight, 0);
    const sides = r.split.map((e) => `${e.upstream} ${e.weight}/${total}`).join(', ');
    return `split[${sides}]${r.sticky !== null ? ` sticky ${r.sticky}` : ''}`;
  }
  return r.upstream ?? '-';
}

function transform(r: CompiledRoute): string {
  if (r.rewrite !== null) return `rewrite ${r.rewrite}`;
  if (r.stripPrefix !== null) return `strip ${r.stripPrefix}`;
  return '-';
}

function methods(r: CompiledRoute): string {
  return r.allow === null ? 'ANY' : [...r.allow].sort().join(',');
}

/** Routes in precedence order: host tables in lookup order, then tree order, then node order. */
export function routesInPrecedenceOrder(router: Router): CompiledRoute[] {
  const t = router.tables;
  const tables: HostTable[] = [...[...t.exact.values()].sort((a, b) => ((a.host ?? '') < (b.host ?? '') ? -1 : 1)), ...t.wildcards];
  if (t.any !== null) tables.push(t.any);
  const out: CompiledRoute[] = [];
  for (const table of tables) forEachRouteSet(table.root, (set) => out.push(...set.all));
  return out;
}

/**
 * The compiled route table, one line per route in precedence order, with
 * columns: precedence rank, name (#config index), host, methods, path,
 * predicates, target (upstream or split with weights), rewrite/strip.
 */
export function formatRouteTable(router: Router): string {
  const header = ['RANK', 'NAME', 'HOST', 'METHODS', 'PATH', 'PREDICATES', 'TARGET', 'TRANSFORM'];
  const rows = routesInPrecedenceOrder(router).map((r, i) => [
    String(i + 1),
    `${r.name} (#${r.index})`,
    r.match.host ?? '*any*',
    methods(r),
    r.match.path,
    predicates(r),
    target(r),
    transform(r),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((row) => row[c].length)));
  const line = (cells: string[]): string => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
