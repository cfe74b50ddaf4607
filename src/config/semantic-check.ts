import { isIP } from 'node:net';
import type { ConfigPath, IssueList } from './issues.js';
import { displayPath } from './issues.js';
import { tryParseDuration } from './units.js';
import { checkUpstreamTls } from './upstream-tls-check.js';
import { checkUpstreamResilience } from './resilience-config.js';
import { POLICY_FACTORIES } from '../policies/registry.js';
import { checkRateLimit } from '../policies/rate-limit/schema.js';
import { checkConsumers } from '../policies/consumers/consumers-config.js';
import { checkTlsSection } from './tls-check.js';
import { checkAdminToken } from './admin-token-check.js';
import { checkRetryBudget, checkRouteRetry } from './retry-config.js';
import { checkWebSocketRoute } from '../websocket/config-check.js';
import { checkAggregateRoute } from '../aggregate/aggregate-config.js';
import { checkDiscovery } from '../upstream/discovery/discovery-config.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `:name` params of a path pattern, in order (duplicates kept). */
export function pathParams(path: string): string[] {
  const out: string[] = [];
  for (const seg of path.split('/')) if (seg.startsWith(':')) out.push(seg.slice(1));
  return out;
}

/**
 * Checks what the schema cannot express: references between sections,
 * uniqueness, and consistency of values. Runs even when the schema check
 * failed (it skips values of the wrong shape), so the user sees every problem
 * at once.
 *
 * @param data the parsed YAML (plain JS values).
 * @param issues where to add problems.
 * @param env the environment `env:` consumer keys are read from.
 */
export function checkSemantics(data: unknown, issues: IssueList, env: NodeJS.ProcessEnv = process.env): void {
  if (!isObj(data)) return;
  const upstreams = isObj(data.upstreams) ? data.upstreams : {};
  if (isObj(data.server)) {
    checkServer(data.server, issues);
    checkTlsSection(data.server, data.admin, (path, message) => issues.add(path, message));
  }
  checkConsumers(data.consumers, (path, message) => issues.add(path, message), env);
  if (isObj(data.admin)) checkAdminToken(data.admin.token, (path, message) => issues.add(path, message), env);
  for (const [name, up] of Object.entries(upstreams)) if (isObj(up)) checkUpstream(name, up, issues, env);
  const limits = checkRateLimits(data.rateLimits, issues);
  const policies = checkPolicies(data, limits, issues);
  checkGrpc(data.grpc, upstreams, issues);
  checkLimitRefs(data.globalRateLimits, ['globalRateLimits'], limits, issues);
  checkPolicyRefs(data.globalPolicies, ['globalPolicies'], policies, issues);
  if (!Array.isArray(data.routes)) return;
  const names = new Map<string, number>();
  const signatures = new Map<string, number>();
  data.routes.forEach((route: unknown, i: number) => {
    if (!isObj(route)) return;
    const at: ConfigPath = ['routes', i];
    const name = typeof route.name === 'string' ? route.name : `route-${i}`;
    const first = names.get(name);
    if (first !== undefined) issues.add([...at, 'name'], `duplicate route name "${name}" (also ${displayPath(['routes', first])})`);
    else names.set(name, i);
    checkRouteTargets(route, at, upstreams, issues);
    const target = typeof route.upstream === 'string' ? upstreams[route.upstream] : undefined;
    if (isObj(target) && target.protocol === 'grpc') {
      issues.add([...at, 'upstream'], `"${route.upstream}" is a grpc upstream: it is reached through a grpc transcoding entry, not a route`);
    }
    checkLimitRefs(route.rateLimit, [...at, 'rateLimit'], limits, issues);
    checkRouteRetry(route, at, (path, message) => issues.add(path, message));
    checkWebSocketRoute(route, at, upstreams, (path, message) => issues.add(path, message));
    const matchPath = isObj(route.match) && typeof route.match.path === 'string' ? route.match.path : '';
    checkAggregateRoute(route, at, upstreams, pathParams(matchPath), (path, message) => issues.add(path, message));
    if (Array.isArray(route.policies)) {
      route.policies.forEach((ref: unknown, j: number) => {
        if (typeof ref === 'string') checkPolicyRefs([ref], [...at, 'policies', j], policies, issues, true);
        else checkPolicyBody(ref, [...at, 'policies', j], data, issues);
      });
    }
    if (!isObj(route.match) || typeof route.match.path !== 'string') return;
    checkRoutePaths(route, route.match.path, at, issues);
    const sig = signature(route.match);
    const dup = signatures.get(sig);
    if (dup !== undefined) issues.add([...at, 'match'], `duplicates ${displayPath(['routes', dup])} (same host, methods, path, headers and query)`);
    else signatures.set(sig, i);
  });
}

/** Unique names; quota needs a period and no window/burst; the others no period. Returns the defined names. */
function checkRateLimits(list: unknown, issues: IssueList): Set<string> {
  const names = new Set<string>();
  if (!Array.isArray(list)) return names;
  list.forEach((l: unknown, i: number) => {
    if (!isObj(l)) return;
    const at: ConfigPath = ['rateLimits', i];
    if (typeof l.name === 'string') {
      if (names.has(l.name)) issues.add([...at, 'name'], `duplicate rate limit name "${l.name}"`);
      names.add(l.name);
    }
    checkRateLimit(l, at, (path, message) => issues.add(path, message));
  });
  return names;
}

/**
 * Each named policy's config passes its kind's own checks, and a rate-limit
 * policy's name does not clash with a rateLimits entry. Returns the names.
 */
function checkPolicies(data: Obj, limits: Set<string>, issues: IssueList): Set<string> {
  const names = new Set<string>();
  if (!isObj(data.policies)) return names;
  for (const [name, body] of Object.entries(data.policies)) {
    names.add(name);
    const kind = checkPolicyBody(body, ['policies', name], data, issues);
    if (kind === 'rate-limit' && limits.has(name)) issues.add(['policies', name], `duplicate rate limit name "${name}" (also in rateLimits)`);
  }
  return names;
}

/** Runs the kind's check on a `{ <kind>: <config> }` body; returns the kind ('' when not one). */
function checkPolicyBody(body: unknown, at: ConfigPath, data: Obj, issues: IssueList): string {
  if (!isObj(body)) return '';
  const keys = Object.keys(body);
  if (keys.length !== 1) return '';
  const factory = POLICY_FACTORIES.find((f) => f.name === keys[0]);
  if (factory === undefined) return '';
  if (factory.check !== undefined) factory.check(body[keys[0]] ?? {}, [...at, keys[0]], (path, message) => issues.add(path, message), data, issues.file);
  return factory.name;
}

/** Every referenced policy name exists. */
function checkPolicyRefs(v: unknown, at: ConfigPath, names: Set<string>, issues: IssueList, single = false): void {
  if (!Array.isArray(v)) return;
  v.forEach((name: unknown, i: number) => {
    if (typeof name !== 'string' || names.has(name)) return;
    const known = names.size > 0 ? `defined: ${[...names].join(', ')}` : 'no policies are defined';
    issues.add(single ? at : [...at, i], `unknown policy "${name}" (${known})`);
  });
}

/** Each transcoding entry names a grpc upstream. */
function checkGrpc(list: unknown, upstreams: Obj, issues: IssueList): void {
  if (!Array.isArray(list)) return;
  list.forEach((g: unknown, i: number) => {
    if (!isObj(g) || typeof g.upstream !== 'string') return;
    const up = upstreams[g.upstream];
    if (!isObj(up)) issues.add(['grpc', i, 'upstream'], `unknown upstream "${g.upstream}"`);
    else if (up.protocol !== 'grpc') issues.add(['grpc', i, 'upstream'], `upstream "${g.upstream}" must have protocol: grpc`);
  });
}

/** Every referenced limit exists. */
function checkLimitRefs(v: unknown, at: ConfigPath, limits: Set<string>, issues: IssueList): void {
  const list = typeof v === 'string' ? [v] : Array.isArray(v) ? v : [];
  list.forEach((name: unknown, i: number) => {
    if (typeof name !== 'string' || limits.has(name)) return;
    const known = limits.size > 0 ? `defined: ${[...limits].join(', ')}` : 'no rateLimits are defined';
    issues.add(typeof v === 'string' ? at : [...at, i], `unknown rate limit "${name}" (${known})`);
  });
}

function checkServer(server: Obj, issues: IssueList): void {
  if (!Array.isArray(server.trustedProxies)) return;
  server.trustedProxies.forEach((entry: unknown, i: number) => {
    if (typeof entry === 'string' && !isAddressOrCidr(entry)) {
      issues.add(['server', 'trustedProxies', i], 'must be an IP address or CIDR like 10.0.0.0/8');
    }
  });
}

/** True for `10.1.2.3`, `::1`, `10.0.0.0/8`, `fd00::/8`. */
export function isAddressOrCidr(text: string): boolean {
  const slash = text.indexOf('/');
  const family = isIP(slash < 0 ? text : text.slice(0, slash));
  if (family === 0) return false;
  if (slash < 0) return true;
  const bits = text.slice(slash + 1);
  return /^\d{1,3}$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128);
}

function checkUpstream(name: string, up: Obj, issues: IssueList, env: NodeJS.ProcessEnv): void {
  const at: ConfigPath = ['upstreams', name];
  checkDiscovery(up, at, (path, message) => issues.add(path, message), env);
  if (Array.isArray(up.targets)) {
    const seen = new Set<string>();
    up.targets.forEach((t: unknown, i: number) => {
      if (!isObj(t) || typeof t.url !== 'string') return;
      const port = /^(?:https?|h2c):\/\/[^/]*:(\d+)\/?$/i.exec(t.url);
      if (port !== null && (Number(port[1]) < 1 || Number(port[1]) > 65535)) {
        issues.add([...at, 'targets', i, 'url'], 'port must be 1-65535');
        return;
      }
      let origin: string;
      try {
        const u = new URL(t.url);
        origin = `${u.protocol}//${u.host}`;
      } catch {
        return; // not URL-shaped at all: the schema reported it
      }
      if (origin === 'null') return;
      if (seen.has(origin)) issues.add([...at, 'targets', i, 'url'], `duplicate target ${origin}`);
      seen.add(origin);
    });
  }
  checkUpstreamTls(up, at, (path, message) => issues.add(path, message));
  checkRetryBudget(up, at, (path, message) => issues.add(path, message));
  checkUpstreamResilience(up, at, (path, message) => issues.add(path, message));
  const hc = up.healthCheck;
  if (isObj(hc)) {
    for (const key of ['interval', 'timeout']) {
      if (hc[key] !== undefined && tryParseDuration(hc[key]) === 0) issues.add([...at, 'healthCheck', key], 'must be more than 0');
    }
    if (typeof hc.expectStatus === 'string') {
      const [lo, hi] = hc.expectStatus.split('-').map(Number);
      if (lo > hi) issues.add([...at, 'healthCheck', 'expectStatus'], `range start ${lo} is above its end ${hi}`);
    }
  }
}

function checkRouteTargets(route: Obj, at: ConfigPath, upstreams: Obj, issues: IssueList): void {
  const known = Object.keys(upstreams);
  const unknown = (name: string): string =>
    `unknown upstream "${name}" (${known.length > 0 ? `defined: ${known.join(', ')}` : 'no upstreams are defined'})`;
  if (typeof route.upstream === 'string' && !Object.hasOwn(upstreams, route.upstream)) {
    issues.add([...at, 'upstream'], unknown(route.upstream));
  }
  if (!Array.isArray(route.split)) return;
  let total = 0;
  route.split.forEach((side: unknown, j: number) => {
    if (!isObj(side)) return;
    if (typeof side.upstream === 'string' && !Object.hasOwn(upstreams, side.upstream)) {
      issues.add([...at, 'split', j, 'upstream'], unknown(side.upstream));
    }
    if (typeof side.weight === 'number' && side.weight > 0) total += side.weight;
  });
  if (route.split.length > 0 && total === 0) issues.add([...at, 'split'], 'weights must sum to more than 0');
}

function checkRoutePaths(route: Obj, path: string, at: ConfigPath, issues: IssueList): void {
  const params = pathParams(path);
  const seen = new Set<string>();
  for (const p of params) {
    if (seen.has(p)) issues.add([...at, 'match', 'path'], `duplicate param :${p}`);
    seen.add(p);
  }
  const hasStar = path === '/*' || path.endsWith('/*');
  if (typeof route.rewrite === 'string') {
    for (const p of pathParams(route.rewrite)) {
      if (!seen.has(p)) issues.add([...at, 'rewrite'], `uses :${p}, which match.path ${JSON.stringify(path)} does not define`);
    }
    if (route.rewrite.includes('*') && !hasStar) issues.add([...at, 'rewrite'], `uses *, but match.path ${JSON.stringify(path)} has no *`);
    if (typeof route.stripPrefix === 'string') issues.add([...at, 'stripPrefix'], 'cannot be combined with rewrite (rewrite sets the whole path)');
  } else if (typeof route.stripPrefix === 'string' && !isSegmentPrefix(route.stripPrefix, path)) {
    issues.add([...at, 'stripPrefix'], `must be a leading part of match.path ${JSON.stringify(path)} (whole segments, no params)`);
  }
}

/** True when `prefix` (e.g. /api) covers whole leading static segments of `path` (e.g. /api/*). */
function isSegmentPrefix(prefix: string, path: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  if (p === '/') return true;
  return path === p || path.startsWith(`${p}/`);
}

/** A key equal for two routes that match exactly the same requests (param names do not matter). */
function signature(match: Obj): string {
  const path = String(match.path).split('/').map((s) => (s.startsWith(':') ? ':' : s)).join('/');
  const methods = Array.isArray(match.methods) ? [...new Set(match.methods.map((m) => String(m).toUpperCase()))].sort().join(',') : '*';
  const host = typeof match.host === 'string' ? match.host.toLowerCase() : '*';
  const headers = isObj(match.headers) ? sortedPairs(match.headers, true) : '';
  const query = isObj(match.query) ? sortedPairs(match.query, false) : '';
  return JSON.stringify([host, methods, path, headers, query]);
}

function sortedPairs(map: Obj, lowerKeys: boolean): string {
  const pairs = Object.entries(map).map(([k, v]) => [lowerKeys ? k.toLowerCase() : k, String(v)]);
  return JSON.stringify(pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
}
