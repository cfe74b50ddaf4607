import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { test } from 'node:test';
import { parseConfig } from '../config/load.js';
import { createLogger } from '../observability/logger.js';
import { consumersListing } from '../policies/consumers/directory.js';
import { startAdminServer, type AdminServer } from './admin-server.js';

function call(server: AdminServer, method: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: server.port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('admin server: health, readiness with details, metrics, routes and problem+json errors', async (t) => {
  let ready = false;
  let failMetrics = false;
  const details = new Map<string, () => unknown>();
  const server = await startAdminServer({
    host: '127.0.0.1',
    port: 0,
    logger: createLogger('silent'),
    readiness: () => ({ ready, generation: 3, workers: [] }),
    metrics: async () => {
      if (failMetrics) throw new Error('scrape failed');
      return 'turnpike_x 1\n';
    },
    routes: () => [{ name: 'r1' }],
    details,
  });
  t.after(() => server.close());
  assert.ok(server.port > 0);

  const health = await call(server, 'GET', '/healthz');
  assert.deepEqual([health.status, JSON.parse(health.body)], [200, { status: 'ok' }]);

  let r = await call(server, 'GET', '/readyz');
  assert.equal(r.status, 503);
  assert.deepEqual(JSON.parse(r.body), { ready: false, generation: 3, workers: [], details: {} });
  ready = true;
  details.set('redis', () => ({ connected: true }));
  details.set('broken', () => {
    throw new Error('no idea');
  });
  r = await call(server, 'GET', '/readyz?verbose=1');
  assert.equal(r.status, 200);
  assert.deepEqual(JSON.parse(r.body).details, { redis: { connected: true }, broken: { error: 'no idea' } });

  const metrics = await call(server, 'GET', '/metrics');
  assert.equal(metrics.status, 200);
  assert.equal(metrics.type, 'text/plain; version=0.0.4; charset=utf-8');
  assert.equal(metrics.body, 'turnpike_x 1\n');
  failMetrics = true;
  const failed = await call(server, 'GET', '/metrics');
  assert.equal(failed.status, 500);
  assert.equal(JSON.parse(failed.body).code, 'internal_error');

  const routes = await call(server, 'GET', '/routes');
  assert.deepEqual(JSON.parse(routes.body), [{ name: 'r1' }]);

  const missing = await call(server, 'GET', '/admin/nope');
  assert.equal(missing.status, 404);
  assert.equal(missing.type, 'application/problem+json');
  assert.deepEqual(JSON.parse(missing.body), {
    type: 'urn:turnpike:problem:route_not_found', title: 'No route matches the request', status: 404,
    detail: 'no admin endpoint at /admin/nope', code: 'route_not_found',
  });
  const post = await call(server, 'POST', '/healthz');
  assert.equal(post.status, 405);
  assert.equal(JSON.parse(post.body).code, 'method_not_allowed');
});

test('admin server rejects when its port is taken', async (t) => {
  const first = await startAdminServer({
    host: '127.0.0.1', port: 0, logger: createLogger('silent'),
    readiness: () => ({ ready: true }), metrics: async () => '', routes: () => [],
  });
  t.after(() => first.close());
  await assert.rejects(startAdminServer({
    host: '127.0.0.1', port: first.port, logger: createLogger('silent'),
    readiness: () => ({ ready: true }), metrics: async () => '', routes: () => [],
  }), (err: Error) => {
    assert.equal(err.name, 'ListenError');
    assert.equal(err.message, `cannot listen on 127.0.0.1:${first.port} (admin): address in use`);
    return true;
  });
});

test('GET /consumers lists ids, usernames, groups and key names; never a key or its hash', async (t) => {
  const key = 'bob-secret-key-123';
  const hash = createHash('sha256').update(key).digest('hex');
  const config = parseConfig(`consumers:
  - { id: acme, username: acme-corp, groups: [ partners ], keys: [ { sha256: "${createHash('sha256').update('acme-key').digest('hex')}", name: ci } ] }
  - { id: bob, groups: [ internal ], keys: [ { env: BOB_API_KEY } ] }
`, 'gw.yaml', { BOB_API_KEY: key });
  const server = await startAdminServer({
    host: '127.0.0.1', port: 0, logger: createLogger('silent'),
    readiness: () => ({ ready: true }), metrics: async () => '', routes: () => config.routes, consumers: () => consumersListing(config),
  });
  t.after(() => server.close());
  const r = await call(server, 'GET', '/consumers');
  assert.equal(r.status, 200);
  assert.equal(r.type, 'application/json');
  assert.deepEqual(JSON.parse(r.body), {
    consumers: [
      { id: 'acme', username: 'acme-corp', groups: ['partners'], keys: [{ name: 'ci', source: 'sha256' }] },
      { id: 'bob', username: '', groups: ['internal'], keys: [{ name: 'key-0', source: 'env' }] },
    ],
  });
  for (const secret of [key, hash, 'acme-key']) assert.ok(!r.body.includes(secret));
  const bare = await startAdminServer({
    host: '127.0.0.1', port: 0, logger: createLogger('silent'), readiness: () => ({ ready: true }), metrics: async () => '', routes: () => [],
  });
  t.after(() => bare.close());
  assert.deepEqual(JSON.parse((await call(bare, 'GET', '/consumers')).body), { consumers: [] });
});
