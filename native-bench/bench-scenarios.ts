/**
 * The proxy benchmark's scenarios: the load test's four (loadtest/scenarios/:
 * passthrough = `tiny`, `params`, `large-body`, `slow-upstream`) plus `16k`,
 * each with the origin it needs, how the proxies route, the wrk script that
 * makes its requests and the check run against every proxy before measuring.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from './bench-run.js';
import { BIG_BODY_BYTES, TINY_BODY, type ProxyName } from './proxy-targets.js';
import { CATCH_ALL, type ProxyRouting } from './route-configs.js';
import { BIG_CHECK, CACHED_CHECK, TINY_CHECK, type ScenarioCheck } from './scenario-checks.js';
import { postBodyLua, rotatingGetsLua } from './wrk-scripts.js';
import { paramsLookups, paramsRoutes } from '../loadtest/scenarios/params-table.js';
import { LARGE_BODY_BYTES } from '../loadtest/scenarios/large-body.js';

/**
 * The origin a scenario needs: the nginx origin (fixed bodies), or the load
 * test's uWS upstream-server (echoes POST bodies) with a response delay.
 */
export type OriginKind = { kind: 'nginx' } | { kind: 'uws'; delayMs: number };

/** A scenario of the proxy benchmark. */
export interface BenchScenario extends Scenario {
  /** One line for the report. */
  description: string;
  origin: OriginKind;
  routing: ProxyRouting;
  /** Upstream pool size given to Turnpike and nginx (undefined = their defaults here, 128 / 64). */
  upstreamPool?: number;
  /** Path polled while a proxy starts. */
  probePath: string;
  /** The wrk Lua script's text (written to the run dir), if the requests are not plain GETs of `path`. */
  lua?: () => string;
  /**
   * The proxies answer from their response cache (Turnpike's cache policy,
   * nginx's proxy_cache; see route-configs.ts), filled by the check before
   * the runs: every measured request is a hit.
   */
  cache?: boolean;
  /** Only these proxies take part (default: every one asked for); e.g. those with a response cache. */
  proxies?: readonly ProxyName[];
  check: () => ScenarioCheck;
}

/** The load test's large-body payload: `abc…xyz` repeated (loadtest/scenarios/large-body.ts). */
export function largeBodyPayload(bytes = LARGE_BODY_BYTES): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < b.length; i++) b[i] = 97 + (i % 26);
  return b;
}

/** Every scenario, in default order. */
export const SCENARIOS: BenchScenario[] = [
  {
    name: 'tiny', path: '/', bodyBytes: TINY_BODY.length, origin: { kind: 'nginx' }, routing: CATCH_ALL, probePath: '/',
    description: `= load test "passthrough": GET / of a ${TINY_BODY.length}-byte JSON; nginx origin; catch-all route`,
    check: () => TINY_CHECK,
  },
  {
    name: '16k', path: '/big', bodyBytes: BIG_BODY_BYTES, origin: { kind: 'nginx' }, routing: CATCH_ALL, probePath: '/',
    description: `GET /big of a ${BIG_BODY_BYTES}-byte JSON file; nginx origin; catch-all route`,
    check: () => BIG_CHECK,
  },
  {
    name: 'cache-hit', path: '/big', bodyBytes: BIG_BODY_BYTES, origin: { kind: 'nginx' }, routing: CATCH_ALL, probePath: '/',
    cache: true, proxies: ['turnpike', 'nginx'],
    description: `GET /big (the ${BIG_BODY_BYTES}-byte JSON of "16k") answered from the proxy's response cache: Turnpike's cache policy `
      + '(memory store) vs nginx proxy_cache (keys zone + cache files, proxy_cache_lock); the origin is asked once (its CPU per request shows it); catch-all route',
    check: () => CACHED_CHECK,
  },
  {
    name: 'params', path: '/', bodyBytes: TINY_BODY.length, origin: { kind: 'nginx' },
    routing: { kind: 'table', routes: paramsRoutes() }, probePath: '/v1/health',
    description: `= load test "params": ${paramsRoutes().length} routes (loadtest/scenarios/params-table.ts); wrk cycles GETs over `
      + `${paramsLookups().length} paths (static, 1–3 params, wildcard, query); nginx origin answers the ${TINY_BODY.length}-byte JSON`,
    lua: () => rotatingGetsLua(paramsLookups()),
    check: () => ({ kind: 'json', paths: paramsLookups(), unrouted: '/v2/not/routed' }),
  },
  {
    name: 'large-body', path: '/upload/echo', bodyBytes: LARGE_BODY_BYTES, origin: { kind: 'uws', delayMs: 0 }, routing: CATCH_ALL,
    probePath: '/', connections: 8,
    description: `= load test "large-body": POST /upload/echo of ${LARGE_BODY_BYTES} bytes, echoed by the uWS upstream-server; 8 connections; catch-all route`,
    lua: () => postBodyLua(LARGE_BODY_BYTES),
    check: () => ({ kind: 'echo', path: '/upload/echo', body: largeBodyPayload() }),
  },
  {
    name: 'slow-upstream', path: '/slow/item', bodyBytes: TINY_BODY.length, origin: { kind: 'uws', delayMs: 50 }, routing: CATCH_ALL,
    probePath: '/', connections: 256, upstreamPool: 1024,
    description: '= load test "slow-upstream": GET /slow/item, the uWS upstream-server answers after 50 ms; 256 connections; '
      + 'Turnpike connections / nginx keepalive 1024 (as config/loadtest/slow-upstream.yaml); catch-all route',
    check: () => ({ kind: 'json', paths: ['/slow/item'], minMs: 45 }),
  },
];

/** Looks scenarios up by name; throws naming the known ones on a typo. */
export function pickScenarios(names: string[]): BenchScenario[] {
  return names.map((n) => {
    const s = SCENARIOS.find((x) => x.name === n);
    if (s === undefined) throw new Error(`unknown scenario "${n}" (known: ${SCENARIOS.map((x) => x.name).join(', ')})`);
    return s;
  });
}

/** Writes the scenario's wrk script (if any) to `runDir/<name>.lua` and returns the scenario with `wrkScriptFile` set. */
export function prepareScenario(s: BenchScenario, runDir: string): BenchScenario {
  if (s.lua === undefined) return s;
  const file = join(runDir, `${s.name}.lua`);
  writeFileSync(file, s.lua());
  return { ...s, wrkScriptFile: file };
}

/** A key that is the same for scenarios sharing an origin. */
export function originKey(o: OriginKind): string {
  return o.kind === 'nginx' ? 'nginx' : `uws-delay-${o.delayMs}`;
}
