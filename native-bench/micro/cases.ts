/**
 * The micro-benchmark cases, each calling the real Turnpike module on the
 * request path: router lookup (vs find-my-way on the same table), upstream
 * header forwarding, the problem+json error body, and request-id generation.
 */
import { randomUUID } from 'node:crypto';
import { ErrorCodes } from '../../src/errors/codes.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { mapUpstreamError } from '../../src/errors/map-error.js';
import type { RequestContext } from '../../src/ingress/request-context.js';
import { RequestIdGenerator } from '../../src/ingress/request-id.js';
import { TrustedProxies } from '../../src/ingress/trusted-proxies.js';
import { problemBody } from '../../src/response/problem.js';
import { statusLine } from '../../src/response/status-lines.js';
import type { MatchResult, RequestLookup } from '../../src/router/index.js';
import { buildUpstreamHeaders } from '../../src/upstream/forward-headers.js';
import { BROWSER_REQUEST, contextFor, CURL_REQUEST, TRUSTED_PROXY_IP } from './request-fixtures.js';
import { validateCases } from './validate-cases.js';
import { transformCases } from './transform-cases.js';
import { buildRouters, routeLookups, type LookupKind, type RouteLookup, type RouterPair } from './route-table.js';

/** One benchmark case: a name and the call to time (returns its result). */
export interface MicroCase {
  group: 'baseline' | 'router' | 'headers' | 'problem' | 'request-id' | 'validate' | 'transform';
  name: string;
  fn: () => unknown;
}

const NO_LOOKUP: RequestLookup = {
  header(): string {
    return '';
  },
  queryParam(): string | undefined {
    return undefined;
  },
};

/** Shared state of the router cases: both routers, the lookups, the params array Turnpike fills. */
export interface RouterFixture extends RouterPair {
  /** 2000 lookups in router-bench's mix. */
  lookups: RouteLookup[];
  /** The reused params array passed to `router.match` (as the handler passes `ctx.params`). */
  params: string[];
}

/** Builds both routers and checks they agree (route and params) on every lookup. */
export function routerFixture(): RouterFixture {
  const fx: RouterFixture = { ...buildRouters(), lookups: routeLookups(2000), params: [] };
  for (const l of fx.lookups) {
    const ours = fx.turnpike.match(l.method, '', l.path, NO_LOOKUP, fx.params);
    const theirs = fx.fmw.find(l.method as 'GET', l.path);
    const ourName = ours !== null && ours.kind === 'route' ? ours.name : null;
    const theirName = theirs === null ? null : (theirs.store as { name: string }).name;
    if (ourName !== theirName) throw new Error(`routers disagree on ${l.method} ${l.path}: turnpike=${ourName} find-my-way=${theirName}`);
    if (theirs !== null && JSON.stringify(Object.values(theirs.params)) !== JSON.stringify(fx.params)) {
      throw new Error(`params disagree on ${l.path}: ${JSON.stringify(fx.params)} vs ${JSON.stringify(theirs.params)}`);
    }
  }
  return fx;
}

function lookupsOf(fx: RouterFixture, kind: LookupKind | 'mixed'): RouteLookup[] {
  return kind === 'mixed' ? fx.lookups : fx.lookups.filter((l) => l.kind === kind);
}

/** Turnpike `router.match` cycling through `list`; returns the match result (params in `fx.params`). */
export function turnpikeLookup(fx: RouterFixture, list: readonly RouteLookup[]): () => MatchResult {
  let i = 0;
  return function turnpikeMatch(): MatchResult {
    const l = list[i];
    i = i + 1 === list.length ? 0 : i + 1;
    return fx.turnpike.match(l.method, '', l.path, NO_LOOKUP, fx.params);
  };
}

/** find-my-way `find` cycling through `list`; returns its result (route store and params object). */
export function fmwLookup(fx: RouterFixture, list: readonly RouteLookup[]): () => ReturnType<RouterFixture['fmw']['find']> {
  let i = 0;
  return function fmwFind(): ReturnType<RouterFixture['fmw']['find']> {
    const l = list[i];
    i = i + 1 === list.length ? 0 : i + 1;
    return fx.fmw.find(l.method as 'GET', l.path);
  };
}

/** Router cases: for each lookup mix, Turnpike then find-my-way on the same list. */
export function routerCases(fx: RouterFixture): MicroCase[] {
  const out: MicroCase[] = [];
  for (const kind of ['mixed', 'static', 'param', 'wildcard', 'miss'] as const) {
    const list = lookupsOf(fx, kind);
    out.push({ group: 'router', name: `router ${kind}: turnpike match`, fn: turnpikeLookup(fx, list) });
    out.push({ group: 'router', name: `router ${kind}: find-my-way find`, fn: fmwLookup(fx, list) });
  }
  return out;
}

/** The two request contexts the header and problem cases use. */
export interface HeaderFixture {
  /** Browser request relayed by a trusted proxy (13 headers, X-Forwarded-For present). */
  browser: RequestContext;
  /** Minimal curl request (3 headers) from an untrusted client. */
  curl: RequestContext;
}

/** Contexts built as the handler builds them, with 127.0.0.1 as the only trusted proxy. */
export function headerFixture(): HeaderFixture {
  const trusted = new TrustedProxies([TRUSTED_PROXY_IP + '/32']);
  const ids = new RequestIdGenerator();
  return { browser: contextFor(BROWSER_REQUEST, trusted, ids), curl: contextFor(CURL_REQUEST, trusted, ids) };
}

/** Header-forwarding cases: `buildUpstreamHeaders` as `RequestHandler.proxy` calls it. */
export function headerCases(fx: HeaderFixture): MicroCase[] {
  return [
    { group: 'headers', name: 'headers: browser (13 hdrs, trusted XFF)', fn: () => buildUpstreamHeaders(fx.browser, '', 'http') },
    { group: 'headers', name: 'headers: browser, preserveHost', fn: () => buildUpstreamHeaders(fx.browser, fx.browser.rawHost, 'http') },
    { group: 'headers', name: 'headers: curl (3 hdrs)', fn: () => buildUpstreamHeaders(fx.curl, '', 'http') },
  ];
}

/** The building part of `writeProblem`: status line and problem+json body. */
export interface ProblemPayload {
  statusLine: string;
  body: string;
}

/** The 404 error the handler answers with (a module constant there, built once). */
export const NOT_FOUND = new GatewayError(ErrorCodes.ROUTE_NOT_FOUND);

/**
 * What undici's connect failure to a closed port looks like to the mapper
 * (a Node system error with `code: 'ECONNREFUSED'`); cases.test.ts checks a
 * real undici failure maps the same way.
 */
export const CONNECT_REFUSED: Error = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), {
  code: 'ECONNREFUSED', errno: -111, syscall: 'connect', address: '127.0.0.1', port: 9,
});

/** Builds what `writeProblem` writes for `err` on `ctx` (no uWS response needed). */
export function buildProblem(err: GatewayError, ctx: RequestContext): ProblemPayload {
  return { statusLine: statusLine(err.status), body: problemBody(err, ctx.path, ctx.requestId) };
}

/** problem+json cases: the 404 (pre-built error) and the 502 (mapped from a connect error per request). */
export function problemCases(fx: HeaderFixture): MicroCase[] {
  return [
    { group: 'problem', name: 'problem: 404 status line + body', fn: () => buildProblem(NOT_FOUND, fx.browser) },
    { group: 'problem', name: 'problem: 502 mapUpstreamError + body', fn: () => buildProblem(mapUpstreamError(CONNECT_REFUSED), fx.browser) },
  ];
}

/** Request-id cases: Turnpike's generator, and crypto.randomUUID (what it replaced) for scale. */
export function requestIdCases(ids: RequestIdGenerator = new RequestIdGenerator()): MicroCase[] {
  return [
    { group: 'request-id', name: 'request-id: RequestIdGenerator.next', fn: () => ids.next() },
    { group: 'request-id', name: 'request-id: crypto.randomUUID (reference)', fn: () => randomUUID() },
  ];
}

/** The harness floor: an almost empty call, to read other rows against. */
export function baselineCase(): MicroCase {
  let n = 0;
  return { group: 'baseline', name: 'baseline: empty call (harness floor)', fn: () => ++n };
}

/** Every case, in report order. */
export function allMicroCases(): MicroCase[] {
  const headers = headerFixture();
  return [
    baselineCase(),
    ...routerCases(routerFixture()),
    ...headerCases(headers),
    ...problemCases(headers),
    ...requestIdCases(),
    ...validateCases(),
    ...transformCases(),
  ];
}
