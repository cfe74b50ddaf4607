/**
 * `explainMatch`: why a request goes where it goes. Off the hot path: every
 * route is checked independently (host, path, method, predicates) with a
 * plain reference matcher, the real router is asked for the actual result, and
 * the winner is compared with the other eligible routes to name the
 * precedence rule that decided. The trace also carries the result a naive
 * "best eligible route" rule predicts; tests check it agrees with the tree.
 */
import type { Router } from './compile-router.js';
import type { CompiledRoute } from './compiled-route.js';
import { allowedMethods } from './compiled-route.js';
import { normaliseHost, tablesFor, type HostTable } from './host-table.js';
import { segmentRank, type ParsedPattern, type PatternSegment } from './path-pattern.js';
import { RecordLookup } from './record-lookup.js';

/** Outcome of a match, in plain data. */
export type ExplainOutcome =
  | { kind: 'route'; route: string; params: Record<string, string> }
  | { kind: 'method-not-allowed'; allow: string[] }
  | { kind: 'bad-path' }
  | { kind: 'not-found' };

/** How one route fared. */
export interface CandidateTrace {
  route: string;
  index: number;
  host: string;
  methods: string;
  path: string;
  /** `winner`; `outranked` (matched everything, lost on precedence); `rejected`. */
  verdict: 'winner' | 'outranked' | 'rejected';
  /** Why it was rejected / outranked (empty for the winner). */
  reasons: string[];
}

/** Structured explanation of one request. */
export interface ExplainTrace {
  request: { method: string; host: string; normalisedHost: string; path: string; headers: Record<string, string>; query: string };
  /** Host tables searched, in order (`api.example.com`, `*.example.com`, `any host`). */
  hostTables: string[];
  candidates: CandidateTrace[];
  /** What the router answered. */
  result: ExplainOutcome;
  /** Human sentence naming the rule that decided (or why nothing matched). */
  decidedBy: string;
  /** What the independent reference rule predicts (route name or status); equals `result` unless the tree is wrong. */
  reference: string;
}

const PATH_SEP = '/';

function tableLabel(t: HostTable): string {
  return t.host ?? 'any host';
}

function describeSegment(s: PatternSegment): string {
  return s.kind === 'static' ? `"${s.value}"` : s.kind === 'param' ? `:${s.value}` : '*';
}

/** Reference path matcher: null when it matches, else the reason. */
export function pathMismatch(p: ParsedPattern, path: string): string | null {
  if (!path.startsWith(PATH_SEP)) return 'path does not start with "/"';
  const segs = path.slice(1).split(PATH_SEP);
  for (let i = 0; i < p.segments.length; i++) {
    const s = p.segments[i];
    if (s.kind === 'wildcard') return null;
    if (i >= segs.length) return `path ends before segment ${i + 1} (${describeSegment(s)})`;
    if (s.kind === 'static' && segs[i] !== s.value) return `segment ${i + 1}: expected "${s.value}", got "${segs[i]}"`;
    if (s.kind === 'param' && segs[i] === '') return `segment ${i + 1}: :${s.value} cannot be empty`;
  }
  if (segs.length > p.segments.length) return `path has ${segs.length - p.segments.length} segment(s) more than the pattern`;
  return null;
}

/** Reference check: does a `:param` capture of `path` under `p` hold a malformed percent-escape? */
function hasMalformedParam(p: ParsedPattern, path: string): boolean {
  const segs = path.slice(1).split(PATH_SEP);
  for (let i = 0; i < p.segments.length && i < segs.length; i++) {
    if (p.segments[i].kind !== 'param') continue;
    try {
      decodeURIComponent(segs[i]);
    } catch {
      return true;
    }
  }
  return false;
}

function predicateFailures(r: CompiledRoute, lookup: RecordLookup): string[] {
  const out: string[] = [];
  for (let i = 0; i < r.headerNames.length; i++) {
    const got = lookup.header(r.headerNames[i]);
    if (got !== r.headerValues[i]) out.push(`header ${r.headerNames[i]} expected "${r.headerValues[i]}" got ${got === '' ? 'nothing' : `"${got}"`}`);
  }
  for (let i = 0; i < r.queryNames.length; i++) {
    const got = lookup.queryParam(r.queryNames[i]);
    if (got !== r.queryValues[i]) out.push(`query ${r.queryNames[i]} expected "${r.queryValues[i]}" got ${got === undefined ? 'nothing' : `"${got}"`}`);
  }
  return out;
}

/**
 * Compares two routes that both fully match one request, as the router
 * ranks them. Returns [sign, rule]: sign < 0 when `a` wins.
 */
export function rankEligible(a: CompiledRoute, b: CompiledRoute, order: readonly HostTable[]): [number, string] {
  const ta = order.findIndex((t) => t.routes.includes(a));
  const tb = order.findIndex((t) => t.routes.includes(b));
  if (ta !== tb) return [ta - tb, `host table ${tableLabel(order[Math.min(ta, tb)])} is searched before ${tableLabel(order[Math.max(ta, tb)])}`];
  const sa = a.pattern.segments;
  const sb = b.pattern.segments;
  for (let i = 0; i < Math.max(sa.length, sb.length); i++) {
    const ka = sa[i] === undefined ? 'end' : sa[i].kind;
    const kb = sb[i] === undefined ? 'end' : sb[i].kind;
    if (ka !== kb) {
      const name = (k: string): string => (k === 'end' ? 'the exact end of the path' : k === 'static' ? 'a static segment' : k === 'param' ? 'a :param' : 'the * wildcard');
      const [hi, lo] = segmentRank(ka) > segmentRank(kb) ? [ka, kb] : [kb, ka];
      return [segmentRank(kb) - segmentRank(ka), `at segment ${i + 1} ${name(hi)} beats ${name(lo)} (static > param > wildcard)`];
    }
  }
  if (a.predicateCount !== b.predicateCount) {
    return [b.predicateCount - a.predicateCount, `more predicates win (${Math.max(a.predicateCount, b.predicateCount)} vs ${Math.min(a.predicateCount, b.predicateCount)})`];
  }
  return [a.index - b.index, `config order (#${Math.min(a.index, b.index)} comes before #${Math.max(a.index, b.index)})`];
}

function outcomeName(o: ExplainOutcome): string {
  switch (o.kind) {
    case 'route':
      return o.route;
    case 'method-not-allowed':
      return `405 ${o.allow.join(',')}`;
    case 'bad-path':
      return '400';
    default:
      return '404';
  }
}

/**
 * Explains how `router` handles one request.
 *
 * @param headers request headers (any case)
 * @param query raw query string (with or without `?`)
 */
export function explainMatch(router: Router, method: string, host: string, path: string, headers: Record<string, string>, query: string): ExplainTrace {
  const lookup = new RecordLookup(headers, query);
  const order = tablesFor(router.tables, host);
  const params: string[] = [];
  const m = router.match(method, host, path, lookup, params);
  let result: ExplainOutcome;
  if (m === null) result = { kind: 'not-found' };
  else if (m.kind === 'route') result = { kind: 'route', route: m.name, params: Object.fromEntries(m.paramNames.map((n, i) => [n, params[i]])) };
  else if (m.kind === 'method-not-allowed') result = { kind: 'method-not-allowed', allow: [...m.allow] };
  else result = { kind: 'bad-path' };

  const candidates: CandidateTrace[] = [];
  const eligible: CompiledRoute[] = [];
  const methodMisses = new Set<string>();
  let predicateRejected = false;
  for (const r of router.routes) {
    const reasons: string[] = [];
    const table = order.find((t) => t.routes.includes(r));
    if (table === undefined) reasons.push(`host: wants ${r.match.host ?? 'any host'}, request host is "${normaliseHost(host)}"`);
    const pm = pathMismatch(r.pattern, path);
    if (pm !== null) reasons.push(`path ${r.match.path}: ${pm}`);
    const methodOk = r.allow === null || r.allow.has(method);
    if (!methodOk) reasons.push(`method ${method} not in ${[...(r.allow ?? [])].sort().join(', ')}`);
    const preds = predicateFailures(r, lookup);
    reasons.push(...preds);
    if (table !== undefined && pm === null) {
      if (!methodOk) for (const x of r.allow ?? []) methodMisses.add(x);
      else if (preds.length > 0) predicateRejected = true;
    }
    if (reasons.length === 0) eligible.push(r);
    candidates.push({
      route: r.name,
      index: r.index,
      host: r.match.host ?? '*any*',
      methods: r.match.methods === null ? 'ANY' : [...(allowedMethods(r.match.methods) ?? [])].sort().join(','),
      path: r.match.path,
      verdict: reasons.length === 0 ? 'outranked' : 'rejected',
      reasons,
    });
  }

  eligible.sort((a, b) => rankEligible(a, b, order)[0]);
  const best = eligible[0];
  let reference: string;
  if (best !== undefined) reference = best.name;
  else if (!predicateRejected && methodMisses.size > 0) reference = `405 ${[...methodMisses].sort().join(',')}`;
  else reference = '404';
  if (best !== undefined && hasMalformedParam(best.pattern, path)) reference = '400';

  let decidedBy: string;
  if (result.kind === 'route') {
    const winner = router.routes.find((r) => r.name === (result as { route: string }).route) as CompiledRoute;
    const runnerUp = eligible.find((r) => r !== winner);
    decidedBy = runnerUp === undefined ? 'the only route matching host, path, method and predicates' : `over ${runnerUp.name}: ${rankEligible(winner, runnerUp, order)[1]}`;
    for (let i = 0; i < candidates.length; i++) {
      const c = candidates[i];
      const r = router.routes[i];
      if (r === winner) c.verdict = 'winner';
      else if (c.verdict === 'outranked') c.reasons.push(`outranked by ${winner.name}: ${rankEligible(winner, r, order)[1]}`);
    }
  } else if (result.kind === 'method-not-allowed') {
    decidedBy = `the path matches but no route there accepts ${method}`;
  } else if (result.kind === 'bad-path') {
    decidedBy = 'a captured parameter has a malformed percent-escape';
  } else {
    decidedBy = predicateRejected ? 'routes match the path and method but their predicates reject the request' : 'no route matches the host and path';
  }
  return {
    request: { method, host, normalisedHost: normaliseHost(host), path, headers, query },
    hostTables: order.map(tableLabel),
    candidates,
    result,
    decidedBy,
    reference,
  };
}

/** The trace's outcome as a short string (`route-name`, `404`, `405 GET,HEAD`, `400`). */
export function explainOutcomeName(trace: ExplainTrace): string {
  return outcomeName(trace.result);
}
