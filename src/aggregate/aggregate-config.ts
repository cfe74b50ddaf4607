/**
 * The `aggregate` block of a route: normalisation (defaults filled in) and
 * the load-time checks the schema cannot express, each reported with its
 * file, line and field: unknown or grpc upstreams, unknown `after` names,
 * dependency cycles (the cycle is named), templates that use a capture the
 * route lacks or a call not listed in `after`, merge entries naming no call,
 * and route settings that mean nothing on an aggregate route.
 */
import type { ConfigPath } from '../config/issues.js';
import { checkRouteRetry, normaliseRetry } from '../config/retry-config.js';
import type { AggregateCallConfig, AggregateConfig } from '../config/types.js';
import { parseDuration, tryParseDuration } from '../config/units.js';
import type { IssueSink } from '../policies/types.js';
import { PARAM, REF, parseTemplate } from './path-template.js';

type Obj = Record<string, unknown>;

/** The aggregate timeout when neither it nor the route's request timeout is set. */
const DEFAULT_TIMEOUT_MS = 60_000;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Fills in the defaults of a schema-valid `aggregate` block.
 *
 * @param routeRequestMs the route's request timeout (the default bound; 0 = none)
 */
export function normaliseAggregate(a: Obj, routeRequestMs: number): AggregateConfig {
  const own = a.timeout === undefined ? 0 : parseDuration(a.timeout as string | number);
  const timeoutMs = own > 0 ? own : routeRequestMs > 0 ? routeRequestMs : DEFAULT_TIMEOUT_MS;
  const calls: AggregateCallConfig[] = Object.entries(a.calls as Record<string, Obj>).map(([name, c]) => ({
    name,
    upstream: c.upstream as string,
    path: c.path as string,
    method: typeof c.method === 'string' ? c.method.toUpperCase() : 'GET',
    headers: Object.fromEntries(Object.entries((c.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v])),
    timeoutMs: c.timeout === undefined ? 0 : parseDuration(c.timeout as string | number),
    optional: c.optional === true,
    after: Array.isArray(c.after) ? [...(c.after as string[])] : [],
    ...(isObj(c.retry) ? { retry: normaliseRetry(c.retry) } : {}),
  }));
  return {
    timeoutMs,
    calls,
    merge: isObj(a.merge) ? Object.entries(a.merge as Record<string, string>).map(([key, ref]) => ({ key, ref })) : null,
    partial: a.partial === 'fail' ? 'fail' : 'allow',
    forwardHeaders: a.forwardHeaders !== false,
  };
}

/** Route settings that configure the proxy terminal only. */
const PROXY_ONLY = ['rewrite', 'stripPrefix', 'preserveHost', 'retry', 'websocket'] as const;

/**
 * Checks a route's `aggregate` block against the rest of the config (see the
 * file comment). Values of the wrong shape are skipped: the schema reported them.
 *
 * @param route the route as written
 * @param at the route's path (`['routes', 3]`)
 * @param upstreams the config's `upstreams` section as written
 * @param params the capture names of the route's match.path
 */
export function checkAggregateRoute(route: Obj, at: ConfigPath, upstreams: Obj, params: readonly string[], issue: IssueSink): void {
  const agg = route.aggregate;
  if (!isObj(agg)) return;
  const aggAt = [...at, 'aggregate'];
  for (const key of PROXY_ONLY) {
    if (route[key] !== undefined && route[key] !== false) issue([...at, key], 'cannot be combined with aggregate (it configures proxying to one upstream; set retry on a call instead)');
  }
  if (!isObj(agg.calls)) return;
  const calls = agg.calls;
  const names = Object.keys(calls);
  const known = Object.keys(upstreams);
  const afterOf = new Map<string, string[]>();
  const aggTimeout = agg.timeout === undefined ? undefined : tryParseDuration(agg.timeout);
  for (const name of names) {
    const c = calls[name];
    if (!isObj(c)) continue;
    const callAt = [...aggAt, 'calls', name];
    if (typeof c.upstream === 'string') {
      const up = Object.hasOwn(upstreams, c.upstream) ? upstreams[c.upstream] : undefined;
      if (up === undefined) {
        issue([...callAt, 'upstream'], `unknown upstream "${c.upstream}" (${known.length > 0 ? `defined: ${known.join(', ')}` : 'no upstreams are defined'})`);
      } else if (isObj(up) && up.protocol === 'grpc') {
        issue([...callAt, 'upstream'], `"${c.upstream}" is a grpc upstream: an aggregate call needs an http upstream`);
      }
    }
    const after = Array.isArray(c.after) ? c.after.filter((x): x is string => typeof x === 'string') : [];
    after.forEach((dep, j) => {
      if (dep === name) issue([...callAt, 'after', j], `a call cannot wait for itself`);
      else if (!Object.hasOwn(calls, dep)) issue([...callAt, 'after', j], `unknown call "${dep}" (calls: ${names.join(', ')})`);
    });
    afterOf.set(name, after.filter((d) => d !== name && Object.hasOwn(calls, d)));
    if (typeof c.path === 'string') checkTemplate(c.path, [...callAt, 'path'], after, params, issue);
    if (isObj(c.retry)) checkRouteRetry({ retry: c.retry, timeout: agg.timeout ?? route.timeout }, callAt, issue);
    if (c.timeout !== undefined && aggTimeout !== undefined && aggTimeout !== null && aggTimeout > 0) {
      const t = tryParseDuration(c.timeout);
      if (t !== null && t > aggTimeout) issue([...callAt, 'timeout'], `${String(c.timeout)} is longer than the aggregate's timeout ${String(agg.timeout)}`);
    }
  }
  const cycle = findCycle(names, afterOf);
  if (cycle !== null) issue([...aggAt, 'calls', cycle[0], 'after'], `dependency cycle: ${cycle.join(' → ')}`);
  if (isObj(agg.merge)) {
    for (const [key, ref] of Object.entries(agg.merge)) {
      if (typeof ref !== 'string') continue;
      const call = ref.split('.')[0];
      if (!Object.hasOwn(calls, call)) issue([...aggAt, 'merge', key], `"${ref}" names no call (calls: ${names.join(', ')})`);
    }
  }
}

/** A call's path: parses, uses only the route's captures, and refers only to calls in its `after`. */
function checkTemplate(path: string, at: ConfigPath, after: readonly string[], params: readonly string[], issue: IssueSink): void {
  const parts = parseTemplate(path);
  if (typeof parts === 'string') { issue(at, parts); return; }
  for (const p of parts) {
    if (p.kind === PARAM && !params.includes(p.text)) {
      issue(at, `uses :${p.text}, which the route's match.path does not define${params.length > 0 ? ` (it has :${params.join(', :')})` : ''}`);
    } else if (p.kind === REF && !after.includes(p.text)) {
      issue(at, `uses \${${[p.text, ...p.path].join('.')}}, but "${p.text}" is not listed in this call's after`);
    }
  }
}

/** The first dependency cycle found, as call names ending where it started (`a → b → a`), or null. */
export function findCycle(names: readonly string[], afterOf: ReadonlyMap<string, readonly string[]>): string[] | null {
  const state = new Map<string, number>(); // 1 = on the stack, 2 = done
  const stack: string[] = [];
  const visit = (n: string): string[] | null => {
    state.set(n, 1);
    stack.push(n);
    for (const d of afterOf.get(n) ?? []) {
      const s = state.get(d);
      if (s === 1) return [...stack.slice(stack.indexOf(d)), d];
      if (s === undefined) {
        const found = visit(d);
        if (found !== null) return found;
      }
    }
    stack.pop();
    state.set(n, 2);
    return null;
  };
  for (const n of names) {
    if (state.get(n) !== undefined) continue;
    const found = visit(n);
    if (found !== null) return found;
  }
  return null;
}
