import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderConfig, renderTemplate } from './bench-template.js';
import { runToEnd } from './bench-procs.js';
import {
  CATCH_ALL, haproxyRouting, nginxCachePath, nginxLocations, patternRegex, peerRoutesJson, turnpikeRoutes, uniquePatterns, type ProxyRouting,
} from './route-configs.js';
import { paramsLookups, paramsRoutes } from '../loadtest/scenarios/params-table.js';
import { parseConfig } from '../src/config/index.js';

const TABLE: ProxyRouting = { kind: 'table', routes: paramsRoutes() };

/** The variables proxy-targets.ts passes, with the routing blocks for `routing`. */
function vars(runDir: string, routing: ProxyRouting, cache = false): Record<string, string | number> {
  return {
    RUN_DIR: runDir, UPSTREAM_PORT: 1, PROXY_PORT: 2, ADMIN_PORT: 3, TINY_BODY: '{}', UPSTREAM_CONNECTIONS: 128, KEEPALIVE: 64,
    ROUTES: turnpikeRoutes(routing, 'origin', cache), LOCATIONS: nginxLocations(routing, 'bench_origin', cache), ROUTING: haproxyRouting(routing),
    HTTP_EXTRA: nginxCachePath(runDir, cache),
  };
}

test('renderTemplate fills every placeholder and rejects unknown ones', () => {
  assert.equal(renderTemplate('listen {{HOST}}:{{PORT}}; # {{PORT}}', { HOST: '127.0.0.1', PORT: 8080 }), 'listen 127.0.0.1:8080; # 8080');
  assert.throws(() => renderTemplate('x {{MISSING}}', {}), /\{\{MISSING\}\} has no value/);
});

test('every shipped config template renders with the variables the benchmark passes', () => {
  for (const name of ['nginx-upstream.conf', 'nginx-proxy.conf', 'haproxy-proxy.cfg', 'turnpike-proxy.yaml']) {
    const text = renderConfig(name, vars('/tmp/x', CATCH_ALL));
    assert.ok(!text.includes('{{'), name);
  }
  const nginx = renderConfig('nginx-proxy.conf', vars('/tmp/x', CATCH_ALL));
  assert.match(nginx, /keepalive 64;/);
  assert.match(nginx, /proxy_set_header Connection "";/);
  assert.match(nginx, /server 127\.0\.0\.1:1;/);
  assert.match(nginx, /location \/ \{\n\s+proxy_pass http:\/\/bench_origin;/);
  assert.match(nginx, /client_max_body_size 2m;/);
  assert.match(renderConfig('haproxy-proxy.cfg', vars('/tmp/x', CATCH_ALL)), /\n {4}default_backend bench_origin\n/);
});

test('cache-hit: Turnpike gets an inline cache policy on its route, nginx a proxy_cache zone and location directives', () => {
  const cfg = parseConfig(renderConfig('turnpike-proxy.yaml', vars('/tmp/x', CATCH_ALL, true)), 'turnpike-proxy.yaml', {});
  assert.deepEqual(cfg.routes[0].policies.map((p) => [p.kind, p.config]), [['cache', { store: 'memory', maxSize: '64mb', ttl: '1h' }]]);
  assert.equal(parseConfig(renderConfig('turnpike-proxy.yaml', vars('/tmp/x', CATCH_ALL)), 'turnpike-proxy.yaml', {}).routes[0].policies.length, 0);
  const nginx = renderConfig('nginx-proxy.conf', vars('/tmp/x', CATCH_ALL, true));
  assert.match(nginx, /\n {4}proxy_cache_path \/tmp\/x\/nginx-cache levels=1:2 keys_zone=bench_cache:10m /);
  assert.match(nginx, /location \/ \{\n\s+proxy_pass http:\/\/bench_origin;\n\s+proxy_cache bench_cache;\n\s+proxy_cache_valid 200 1h;/);
  assert.match(nginx, /add_header X-Cache \$upstream_cache_status always;/);
  assert.doesNotMatch(renderConfig('nginx-proxy.conf', vars('/tmp/x', CATCH_ALL)), /^\s*(?:proxy_cache|proxy_cache_path) /m);
});

test('patternRegex turns params into one segment and a trailing * into the rest, literals escaped', () => {
  assert.equal(patternRegex('/v1/orgs/:org/repos/:repo'), '^/v1/orgs/[^/]+/repos/[^/]+$');
  assert.equal(patternRegex('/static/*'), '^/static/.*$');
  assert.equal(patternRegex('/a.b/*/x'), '^/a\\.b/\\*/x$');
  const regexes = uniquePatterns(paramsRoutes()).map((p) => new RegExp(patternRegex(p)));
  for (const path of paramsLookups()) assert.ok(regexes.some((r) => r.test(path.split('?')[0])), `${path} matches no route`);
  assert.ok(!regexes.some((r) => r.test('/v2/not/routed')));
  assert.ok(!regexes.some((r) => r.test('/v1/users/1/items/2/extra')));
});

test('the params table renders one entry per distinct path for nginx, HAProxy and the peers, every route for Turnpike', () => {
  const routes = paramsRoutes();
  const n = uniquePatterns(routes).length;
  assert.ok(n > 200 && n < routes.length, `${n} distinct of ${routes.length}`);
  assert.equal(nginxLocations(TABLE).match(/location ~ \^/g)?.length, n);
  const ha = haproxyRouting(TABLE);
  assert.equal(ha.match(/ acl r\d+ path_reg \^/g)?.length, n);
  assert.equal(ha.match(/ use_backend bench_origin if r\d+\n?/g)?.length, n);
  assert.ok(!ha.includes('default_backend'));
  assert.deepEqual((JSON.parse(peerRoutesJson(TABLE)!) as { path: string }[]).map((r) => r.path), uniquePatterns(routes));
  assert.equal(peerRoutesJson(CATCH_ALL), null);
  const cfg = parseConfig(renderConfig('turnpike-proxy.yaml', vars('/tmp/x', TABLE)), 'turnpike-proxy.yaml', {});
  assert.equal(cfg.routes.length, routes.length);
  assert.equal(cfg.upstreams.origin.connections, 128);
  assert.deepEqual(cfg.routes.find((r) => r.name === 'users-write')?.match.methods, ['PUT', 'PATCH', 'DELETE']);
});

test('rendered nginx and HAProxy configs pass nginx -t and haproxy -c: catch-all, params table, and nginx with proxy_cache', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-template-'));
  try {
    for (const [tag, routing, cache] of [['catch-all', CATCH_ALL, false], ['params', TABLE, false], ['cache-hit', CATCH_ALL, true]] as const) {
      const nginxFile = join(dir, `nginx-${tag}.conf`);
      writeFileSync(nginxFile, renderConfig('nginx-proxy.conf', vars(dir, routing, cache)));
      const n = await runToEnd('nginx', ['-t', '-p', dir, '-c', nginxFile, '-e', join(dir, 'error.log')]);
      assert.equal(n.code, 0, `nginx -t (${tag}):\n${n.stderr}`);
      assert.match(n.stderr, /test is successful/);
      const haFile = join(dir, `haproxy-${tag}.cfg`);
      writeFileSync(haFile, renderConfig('haproxy-proxy.cfg', vars(dir, routing)));
      const h = await runToEnd('haproxy', ['-c', '-f', haFile]);
      assert.equal(h.code, 0, `haproxy -c (${tag}):\n${h.stdout}${h.stderr}`);
      assert.match(h.stdout + h.stderr, /Configuration file is valid/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
