import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { nodeRequest, startUpstream, type TestUpstream } from './helpers.js';
import { writeValidateFixtures } from './validate-fixtures.js';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string; json: Record<string, unknown> | null }

async function call(port: number, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  const text = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const h: Record<string, string> = { ...headers };
  if (text !== undefined && h['content-type'] === undefined) h['content-type'] = 'application/json';
  if (text !== undefined) h['content-length'] = String(Buffer.byteLength(text));
  const r = await nodeRequest(port, path, h, method, text);
  let json: Record<string, unknown> | null = null;
  try { json = JSON.parse(r.body) as Record<string, unknown>; } catch { json = null; }
  return { ...r, json };
}

function assertRefused(r: Reply, status: number, code: string): void {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.json?.code, code, r.body);
}

function errorPaths(r: Reply): string[] {
  return (r.json?.errors as Array<{ path: string; message: string }>).map((e) => e.path);
}

async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((s) => Object.entries(labels).every(([k, l]) => s.labels[k] === l));
  return v?.value ?? 0;
}

describe('validate policy (real gateway, real upstream)', () => {
  let dir: string;
  let home = '';
  let up: TestUpstream;
  let gw: GatewayWorker;
  const registry = new Registry();

  before(async () => {
    dir = writeValidateFixtures();
    // why: files named in the config resolve against the working directory (as TLS files and protos do).
    home = process.cwd();
    process.chdir(dir);
    up = await startUpstream('orders', (req, res) => {
      const url = req.url ?? '';
      if (url.startsWith('/pets/2') || url.startsWith('/v1/pets/2')) {
        // Does not match the document: id is a string. The monitor counts it; the client still gets it.
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'two', name: 'Rex' }));
        return;
      }
      if (url.startsWith('/pets/') || url.startsWith('/v1/pets/')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 1, name: 'Tom', tag: null }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ ok: true, url }));
    });
    const yaml = `
upstreams:
  orders: { targets: [ { url: "${up.url}" } ] }
policies:
  create-order:
    validate:
      body:   { schema: schemas/create-order.json }
      query:  { schema: { type: object, properties: { limit: { type: integer, maximum: 100 } } } }
      headers: { required: [ x-request-source ] }
  search:
    validate:
      query:
        schema:
          type: object
          required: [ q ]
          properties:
            q: { type: string, minLength: 2 }
            tags: { type: array, items: { enum: [ red, green, blue ] }, maxItems: 3 }
            exact: { type: boolean }
            price: { type: number, exclusiveMinimum: 0 }
          additionalProperties: false
  from-openapi:
    validate: { openapi: specs/petstore.yaml, operation: auto, responses: monitor }
  open-body:
    validate:
      body: { schema: { type: object, additionalProperties: false, properties: { a: { type: integer } } } }
routes:
  - name: create-order
    match: { path: /orders, methods: [ POST ] }
    upstream: orders
    policies: [ create-order ]
  - name: search
    match: { path: /search, methods: [ GET ] }
    upstream: orders
    policies: [ search ]
  - name: pets
    match: { path: /pets, methods: [ GET, POST ] }
    upstream: orders
    policies: [ from-openapi ]
  - name: pet
    match: { path: /pets/:petId, methods: [ GET ] }
    upstream: orders
    policies: [ from-openapi ]
  - name: v1-pet
    match: { path: /v1/pets/:petId, methods: [ GET ] }
    upstream: orders
    policies: [ from-openapi ]
  - name: zoo
    match: { path: /zoo/* }
    upstream: orders
    policies: [ from-openapi ]
  - name: open
    match: { path: /open, methods: [ POST ] }
    upstream: orders
    policies: [ open-body ]
`;
    const config = parseConfig(yaml, join(dir, 'gateway.yaml'), {});
    config.server.host = '127.0.0.1';
    config.server.port = 0;
    gw = await startWorker(config, { metricsRegistry: registry });
  });

  after(async () => {
    await gw?.drain(1000);
    await up?.close();
    process.chdir(home);
    rmSync(dir, { recursive: true, force: true });
  });

  const order = { customer: 'ann@example.com', items: [{ sku: 'ABC-1', qty: 2 }], shipTo: [52.5, 13.4] };
  const src = { 'x-request-source': 'test' };

  test('a valid body, query and headers pass to the upstream unchanged', async () => {
    const before = up.seen.length;
    const r = await call(gw.port, 'POST', '/orders?limit=10', order, src);
    assert.equal(r.status, 200, r.body);
    assert.equal(up.seen.length, before + 1);
    assert.equal(up.seen.at(-1)!.bodyBytes, Buffer.byteLength(JSON.stringify(order)));
  });

  test('body errors: JSON pointer paths into the body, through a $ref to another file', async () => {
    const before = up.seen.length;
    const r = await call(gw.port, 'POST', '/orders', { customer: 'not-an-email', items: [{ sku: 'abc', qty: 0 }, { qty: 1.5 }] }, src);
    assertRefused(r, 400, 'validation_failed');
    const paths = errorPaths(r);
    for (const p of ['/body/customer', '/body/items/0/sku', '/body/items/0/qty', '/body/items/1/sku', '/body/items/1/qty']) assert.ok(paths.includes(p), `${p} in ${paths.join(', ')}`);
    const missing = (r.json!.errors as Array<{ path: string; message: string }>).find((e) => e.path === '/body/items/1/sku');
    assert.equal(missing?.message, 'is required');
    assert.equal(up.seen.length, before, 'nothing reached the upstream');
  });

  test('2020-12 keywords: prefixItems, dependentRequired, unevaluatedProperties', async () => {
    const tuple = await call(gw.port, 'POST', '/orders', { ...order, shipTo: [52.5, 200, 1] }, src);
    assertRefused(tuple, 400, 'validation_failed');
    assert.ok(errorPaths(tuple).includes('/body/shipTo/1'), tuple.body);
    assert.ok(errorPaths(tuple).includes('/body/shipTo'), tuple.body);
    const dep = await call(gw.port, 'POST', '/orders', { ...order, coupon: 'XMAS' }, src);
    assertRefused(dep, 400, 'validation_failed');
    assert.match(dep.body, /discount/);
    const extra = await call(gw.port, 'POST', '/orders', { ...order, note: 'hi' }, src);
    assertRefused(extra, 400, 'validation_failed');
    assert.deepEqual(errorPaths(extra), ['/body/note']);
    const ok = await call(gw.port, 'POST', '/orders', { ...order, coupon: 'XMAS', discount: 5 }, src);
    assert.equal(ok.status, 200, ok.body);
  });

  test('invalid JSON is 400 invalid_json; a non-JSON content type is 415; an empty body is required', async () => {
    assertRefused(await call(gw.port, 'POST', '/orders', '{"customer":', src), 400, 'invalid_json');
    assertRefused(await call(gw.port, 'POST', '/orders', 'customer=a', { ...src, 'content-type': 'application/x-www-form-urlencoded' }), 415, 'unsupported_media_type');
    const empty = await call(gw.port, 'POST', '/orders', undefined, src);
    assertRefused(empty, 400, 'validation_failed');
    assert.deepEqual(errorPaths(empty), ['/body']);
    const charset = await call(gw.port, 'POST', '/orders', order, { ...src, 'content-type': 'application/json; charset=utf-8' });
    assert.equal(charset.status, 200, charset.body);
  });

  test('query values are coerced per the schema; headers are required', async () => {
    const big = await call(gw.port, 'POST', '/orders?limit=500', order, src);
    assertRefused(big, 400, 'validation_failed');
    assert.deepEqual(r2(big), [['/query/limit', 'must be <= 100']]);
    const word = await call(gw.port, 'POST', '/orders?limit=ten', order, src);
    assert.deepEqual(r2(word), [['/query/limit', 'must be integer']]);
    const noSource = await call(gw.port, 'POST', '/orders', order);
    assertRefused(noSource, 400, 'validation_failed');
    assert.deepEqual(r2(noSource), [['/headers/x-request-source', 'is required']]);
  });

  test('repeated query params form arrays; booleans and numbers are coerced; additionalProperties', async () => {
    assert.equal((await call(gw.port, 'GET', '/search?q=shoes&tags=red&tags=blue&exact=true&price=9.5')).status, 200);
    assert.equal((await call(gw.port, 'GET', '/search?q=shoes&tags=red')).status, 200, 'one value of an array param');
    const bad = await call(gw.port, 'GET', '/search?q=s&tags=red&tags=pink&exact=maybe&price=0&debug=1');
    assertRefused(bad, 400, 'validation_failed');
    assert.deepEqual(errorPaths(bad).sort(), ['/query/debug', '/query/exact', '/query/price', '/query/q', '/query/tags/1'].sort());
    const missing = await call(gw.port, 'GET', '/search');
    assert.deepEqual(r2(missing), [['/query/q', 'is required']]);
  });

  test('a 10 KB input value or key never comes back beyond 200 bytes', async () => {
    const huge = 'x'.repeat(10 * 1024);
    const r = await call(gw.port, 'POST', '/open', { a: huge, [huge]: 1, ['y'.repeat(5000)]: 2 });
    assertRefused(r, 400, 'validation_failed');
    assert.ok(!r.body.includes('x'.repeat(201)), 'at most 200 bytes of the input');
    assert.ok(r.body.length < 2000, `small answer (${r.body.length} bytes)`);
    const many: Record<string, number> = {};
    for (let i = 0; i < 100; i++) many['k' + i] = i;
    const lots = await call(gw.port, 'POST', '/open', many);
    assert.equal((lots.json!.errors as unknown[]).length, 20);
    assert.match(String(lots.json!.detail), /100 validation errors/);
  });

  test('OpenAPI: query, path params (base path too), header params and the body by operation', async () => {
    assert.equal((await call(gw.port, 'GET', '/pets?limit=5&status=available,sold')).status, 200);
    const q = await call(gw.port, 'GET', '/pets?limit=500&status=lost');
    assertRefused(q, 400, 'validation_failed');
    assert.deepEqual(errorPaths(q).sort(), ['/query/limit', '/query/status/0']);
    const p = await call(gw.port, 'GET', '/pets/abc');
    assert.deepEqual(r2(p), [['/params/petId', 'must be integer']]);
    assert.deepEqual(r2(await call(gw.port, 'GET', '/pets/0')), [['/params/petId', 'must be > 0']], 'boolean exclusiveMinimum of 3.0');
    assert.deepEqual(r2(await call(gw.port, 'GET', '/v1/pets/abc')), [['/params/petId', 'must be integer']], 'server base path');
    assert.deepEqual(r2(await call(gw.port, 'GET', '/pets/1', undefined, { 'x-trace-id': 'nothex!!' })), [['/headers/x-trace-id', 'must match pattern "^[0-9a-f]{8}$"']]);
    assert.equal((await call(gw.port, 'GET', '/pets/1', undefined, { 'x-trace-id': '0123abcd' })).status, 200);
    assert.equal((await call(gw.port, 'POST', '/pets', { name: 'Rex', tag: null, weight: 3 })).status, 200, 'nullable of 3.0');
    const body = await call(gw.port, 'POST', '/pets', { name: '', weight: 0, owner: 'me' });
    assert.deepEqual(errorPaths(body).sort(), ['/body/name', '/body/owner', '/body/weight']);
    assert.deepEqual(r2(await call(gw.port, 'POST', '/pets')), [['/body', 'is required']], 'requestBody.required');
    assertRefused(await call(gw.port, 'GET', '/zoo/1'), 404, 'route_not_found');
    assertRefused(await call(gw.port, 'DELETE', '/zoo/pets/1'), 404, 'route_not_found');
  });

  test('monitor mode: a response that does not match is counted and still sent', async () => {
    const before = await metric(registry, 'turnpike_validation_responses_total', { route: 'pet', policy: 'from-openapi', result: 'mismatch' });
    const r = await call(gw.port, 'GET', '/pets/2');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { id: 'two', name: 'Rex' });
    const good = await call(gw.port, 'GET', '/pets/1');
    assert.equal(good.status, 200);
    const after = await metric(registry, 'turnpike_validation_responses_total', { route: 'pet', policy: 'from-openapi', result: 'mismatch' });
    assert.equal(after, before + 1);
    assert.ok(await metric(registry, 'turnpike_validation_responses_total', { route: 'pet', policy: 'from-openapi', result: 'valid' }) >= 1);
  });

  test('metrics count passed and failed parts by route and policy', async () => {
    assert.ok(await metric(registry, 'turnpike_validation_total', { route: 'create-order', policy: 'create-order', part: 'body', result: 'passed' }) >= 1);
    assert.ok(await metric(registry, 'turnpike_validation_total', { route: 'create-order', policy: 'create-order', part: 'body', result: 'failed' }) >= 1);
    assert.ok(await metric(registry, 'turnpike_validation_total', { route: 'search', policy: 'search', part: 'query', result: 'failed' }) >= 1);
    assert.ok(await metric(registry, 'turnpike_validation_total', { route: 'pet', policy: 'from-openapi', part: 'params', result: 'failed' }) >= 1);
  });
});

/** [path, message] pairs of a refusal. */
function r2(r: Reply): Array<[string, string]> {
  assert.equal(r.status, 400, r.body);
  return (r.json?.errors as Array<{ path: string; message: string }>).map((e) => [e.path, e.message]);
}
