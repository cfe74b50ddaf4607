/**
 * The "Layout" notes of the proxy benchmark's report: where each process
 * ran, what the origins are, how runs were ordered, and the peers' setup.
 */
import type { LoadOptions } from './bench-run.js';
import type { BenchScenario } from './bench-scenarios.js';
import { BIG_BODY_BYTES, TINY_BODY } from './proxy-targets.js';
import { uniquePatterns } from './route-configs.js';

/** What the layout notes describe. */
export interface LayoutFacts {
  pin: boolean;
  load: LoadOptions;
  rounds: number;
  quietWaitS: number;
  /** % of one core under which the machine counts as quiet. */
  quietBusyPct: number;
  scenarios: BenchScenario[];
  /** One description line per Node.js peer that ran (from peer-procs.ts). */
  peerDescriptions: string[];
}

/** The report's layout bullet points. */
export function layoutNotes(f: LayoutFacts): string[] {
  const nginxOrigin = f.scenarios.some((s) => s.origin.kind === 'nginx');
  const uwsOrigin = f.scenarios.some((s) => s.origin.kind === 'uws');
  const notes = [
    f.pin ? 'cpu0: the proxy under test, all its processes (Turnpike primary + 1 worker; nginx master + 1 worker; HAProxy 1 thread; fast-gateway and @fastify/http-proxy 1 Node process each), pinned with `taskset -c 0`.'
      : 'Nothing pinned (--pin off): proxy, origin and wrk share both cores as the scheduler likes.',
    f.pin ? 'cpu1: wrk (1 thread) and the origin, pinned with `taskset -c 1`. With only 2 cores the load generator and the origin share a core; the proxy has one to itself.'
      : 'The load generator competes with the proxy for CPU.',
  ];
  if (nginxOrigin) {
    notes.push(`Origin for tiny, 16k and params: nginx, worker_processes 1, \`return 200\` of a ${TINY_BODY.length}-byte JSON body from memory for every path but /big, `
      + `and a ${BIG_BODY_BYTES}-byte JSON file via sendfile at /big; keep-alive without request limit.`);
  }
  if (f.scenarios.some((s) => s.cache === true)) {
    notes.push(`cache-hit: only the proxies with a response cache run it (${[...new Set(f.scenarios.flatMap((s) => s.proxies ?? []))].join(', ')}); `
      + 'the response check fills each cache, so every measured request is a hit (the origin\'s CPU per request is about 0). '
      + 'Turnpike: an inline `cache` policy on the route (memory store, ttl 1h); nginx: `proxy_cache` with a 10m keys zone and cache files under the run dir, '
      + '`proxy_cache_valid 200 1h`, `proxy_cache_lock on`; both add X-Cache (and X-Request-Id) to every answer.');
  }
  if (uwsOrigin) {
    notes.push('Origin for large-body and slow-upstream: the load test\'s uWS upstream-server (loadtest/upstream/upstream-server.ts, one Node process; '
      + 'GET → the same 60-byte JSON, POST → the body echoed), with `--delay-ms 50` for slow-upstream. nginx cannot echo a body, hence the second origin.');
  }
  notes.push(
    'Origins start when a scenario first needs them and stay up. Their CPU per request is in the tables, to show they are not the bottleneck.',
    'Per scenario, every proxy is started with that scenario\'s routing (one catch-all route, or for params the ~300-route table), its answers are checked '
      + '(see "Response checks"), all rounds run, then the proxies stop. Only the proxy being measured gets load.',
    `Every run is a ${f.load.warmupS}s warm-up wrk run (discarded), then a ${f.load.durationS}s measured run with ${f.load.connections} connections `
      + '(large-body: 8, slow-upstream: 256); proxies alternate in rotating order; '
      + `rounds per proxy and scenario: ${f.rounds}. params and large-body requests come from a wrk Lua script (the wrk command of every run is in the JSON).`,
    'Header work is the same everywhere: X-Forwarded-For (peer address), X-Forwarded-Proto, X-Forwarded-Host and X-Request-Id sent upstream, X-Request-Id on the response. '
      + 'The Node.js peers are started with forwardHeaders: true (their --forward-headers hook) for this.',
    'Request bodies: nginx has client_max_body_size 2m and its default buffering (a 1 MiB request body and the 1 MiB response are spooled to temp files under the run dir, '
      + 'in /tmp), HAProxy streams, Turnpike streams (maxBodySize 10mb), the peers stream.',
    'Upstream pools: Turnpike 128 connections (slow-upstream: 1024), nginx keepalive 64 idle (slow-upstream: 1024; it opens more when needed), '
      + 'HAProxy unlimited with http-reuse always, the peers 128 connections (slow-upstream: 1024, `--pool`).',
    'Load, origins and proxies talk over 127.0.0.1 (loopback TCP).',
    f.quietWaitS > 0 ? `Before each run the script waited (up to ${f.quietWaitS}s) until the whole machine used under ${f.quietBusyPct}% of one core, to dodge other jobs on this shared box; "others' CPU %" shows what they still took during each run.`
      : 'No waiting for a quiet machine (--quiet-wait 0).',
  );
  const table = f.scenarios.find((s) => s.routing.kind === 'table')?.routing;
  if (table !== undefined && table.kind === 'table') notes.push(paramsRoutingNote(table.routes.length, uniquePatterns(table.routes).length));
  for (const d of f.peerDescriptions) notes.push(`Peer: ${d}.`);
  return notes;
}

/** How each proxy routes in `params` (see route-configs.ts). */
function paramsRoutingNote(routes: number, patterns: number): string {
  return `params routing: Turnpike gets the ${routes} routes of the table (path + methods) in its radix tree; the others route by path only, `
    + `one entry per distinct path (${patterns}), in table order, all to the one origin pool: nginx ${patterns} \`location ~ ^regex$\` blocks (\`:param\` → \`[^/]+\`, `
    + `trailing \`*\` → \`.*\`; regex locations tried in order, first match wins; pcre_jit on); HAProxy ${patterns} \`acl rN path_reg ^regex$\` + \`use_backend … if rN\` `
    + `lines, tried in order, no default backend (an unrouted path gets 503); fast-gateway ${patterns} routes in 0http's sequential router (regexes tried in order, `
    + `LRU cache of 1000 lookups); @fastify/http-proxy ${patterns} find-my-way routes (radix tree). First-match proxies serve \`/v1/<r>/search\` by the earlier `
    + `\`/v1/<r>/:id\` pattern (same origin, same answer); Turnpike and find-my-way prefer the static segment. Unrouted paths are not part of the load.`;
}
