/**
 * The routing part of each proxy's config, per scenario: one catch-all route,
 * or the load test's `params` table (loadtest/scenarios/params-table.ts)
 * rendered for Turnpike (its own patterns), nginx (one regex location per
 * pattern), HAProxy (one `path_reg` ACL per pattern) and the Node.js peers
 * (a JSON routes file). The blocks fill `{{...}}` placeholders of the
 * templates in native-bench/configs/.
 */
import type { ParamsRoute } from '../loadtest/scenarios/params-table.js';

/** How the proxies route in one scenario. */
export type ProxyRouting = { kind: 'catch-all' } | { kind: 'table'; routes: ParamsRoute[] };

/** One catch-all route to the origin. */
export const CATCH_ALL: ProxyRouting = { kind: 'catch-all' };

/**
 * The distinct path patterns of a table, in table order (the table lists some
 * paths twice with different methods; nginx, HAProxy and the peers route by
 * path only).
 */
export function uniquePatterns(routes: ParamsRoute[]): string[] {
  return [...new Set(routes.map((r) => r.path))];
}

/**
 * A Turnpike pattern as an anchored regex: `:param` → `[^/]+` (one non-empty
 * segment), a trailing `*` → `.*`, other characters literal.
 */
export function patternRegex(pattern: string): string {
  const segments = pattern.split('/').map(function segment(s: string, i: number, all: string[]): string {
    if (s.startsWith(':')) return '[^/]+';
    if (s === '*' && i === all.length - 1) return '.*';
    return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  });
  return '^' + segments.join('/') + '$';
}

/**
 * The nginx `location` blocks (8-space indent). The `proxy_*` header
 * directives sit at server level and are inherited by every location.
 * Regex locations are tried in config order, first match wins; a path no
 * location matches gets nginx's 404.
 */
export function nginxLocations(routing: ProxyRouting, upstream = 'bench_origin', cache = false): string {
  if (routing.kind === 'catch-all') {
    return `        location / {\n            proxy_pass http://${upstream};\n${cache ? NGINX_CACHE_DIRECTIVES : ''}        }`;
  }
  return uniquePatterns(routing.routes)
    .map((p) => `        location ~ ${patternRegex(p)} {\n            proxy_pass http://${upstream};\n        }`)
    .join('\n');
}

/**
 * The HAProxy frontend's routing lines (4-space indent): `default_backend`,
 * or one `acl rN path_reg` + `use_backend ... if rN` per pattern in table
 * order and no default backend (an unrouted path gets HAProxy's 503).
 */
export function haproxyRouting(routing: ProxyRouting, backend = 'bench_origin'): string {
  if (routing.kind === 'catch-all') return `    default_backend ${backend}`;
  const patterns = uniquePatterns(routing.routes);
  const acls = patterns.map((p, i) => `    acl r${i} path_reg ${patternRegex(p)}`);
  const uses = patterns.map((_, i) => `    use_backend ${backend} if r${i}`);
  return [...acls, ...uses].join('\n');
}

/**
 * Scenario cache-hit, nginx: the cache directives of the catch-all location.
 * The zone is declared at http level ({@link nginxCachePath}); entries are
 * valid for an hour (the origin's /big has no Cache-Control); one request per
 * key fills (proxy_cache_lock, like Turnpike's coalescing); X-Cache says
 * HIT/MISS like Turnpike's. A location with its own add_header inherits none
 * from the server, so X-Request-Id is repeated here.
 */
const NGINX_CACHE_DIRECTIVES = [
  'proxy_cache bench_cache;', 'proxy_cache_valid 200 1h;', 'proxy_cache_lock on;',
  'add_header X-Cache $upstream_cache_status always;', 'add_header X-Request-Id $request_id always;',
].map((d) => `            ${d}\n`).join('');

/** Scenario cache-hit, nginx: the http-level cache zone under the run dir (4-space indent); '' without a cache. */
export function nginxCachePath(runDir: string, cache: boolean): string {
  if (!cache) return '';
  return `    proxy_cache_path ${runDir}/nginx-cache levels=1:2 keys_zone=bench_cache:10m max_size=64m inactive=1h use_temp_path=off;`;
}

/** Scenario cache-hit, Turnpike: the route's inline cache policy (memory store; an hour's ttl, as nginx's proxy_cache_valid). */
export const TURNPIKE_CACHE_POLICY = '{ cache: { store: memory, maxSize: 64mb, ttl: 1h } }';

/** Turnpike's `routes:` entries (2-space indent), with the table's methods. */
export function turnpikeRoutes(routing: ProxyRouting, upstream = 'origin', cache = false): string {
  if (routing.kind === 'catch-all') {
    return `  - name: all\n    match: { path: /* }\n    upstream: ${upstream}` + (cache ? `\n    policies: [ ${TURNPIKE_CACHE_POLICY} ]` : '');
  }
  return routing.routes
    .map((r) => `  - name: ${r.name}\n    match: { path: "${r.path}", methods: [${r.methods.join(', ')}] }\n    upstream: ${upstream}`)
    .join('\n');
}

/** The peers' `--routes` file text (JSON array of `{ path }`), or null for their own catch-all. */
export function peerRoutesJson(routing: ProxyRouting): string | null {
  if (routing.kind === 'catch-all') return null;
  return '[\n' + uniquePatterns(routing.routes).map((p) => `  ${JSON.stringify({ path: p })}`).join(',\n') + '\n]\n';
}
