// The policies' upstream client against real node:http upstreams.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configFromYaml, deadPort } from '../../test/e2e/helpers.js';
import { GatewayError } from '../errors/gateway-error.js';
import { RequestContext } from '../ingress/request-context.js';
import { compileRouter } from '../router/index.js';
import { createUpstreamGroup, type UpstreamGroup } from './upstream-group.js';
import { UpstreamClient } from './upstream-client.js';

let server: Server;
let origin = '';
const seen: IncomingMessage[] = [];

before(async () => {
  server = createServer((req, res) => {
    seen.push(req);
    if (req.url === '/slow') { setTimeout(() => res.end('late'), 2000); return; }
    if (req.url === '/big') { res.end(Buffer.alloc(5000, 97)); return; }
    res.writeHead(201, { 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'], 'keep-alive': 'timeout=5', 'x-hop': 'h', connection: 'x-hop' });
    res.end(`${req.method} ${req.url} ${req.headers['x-test'] ?? ''}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function setup(extra = ''): Promise<{ client: UpstreamClient; groups: Map<string, UpstreamGroup>; config: ReturnType<typeof configFromYaml> }> {
  const dead = await deadPort();
  const config = configFromYaml(`
upstreams:
  up: { targets: [ { url: "${origin}" } ] }
  down: { targets: [ { url: "http://127.0.0.1:${dead}" } ], passiveHealth: { consecutiveFailures: 1, ejectTime: 10s }, panicThreshold: 0% }
  other: { targets: [ { url: "${origin}" } ] }
routes:
  - { name: r, match: { path: /items/:id }, upstream: up, rewrite: /v1/items/:id }
  - { name: s, match: { path: /split/* }, split: [ { upstream: up, weight: 1 }, { upstream: other, weight: 1 } ], sticky: header:x-user }
${extra}`);
  const groups = new Map<string, UpstreamGroup>();
  for (const [name, u] of Object.entries(config.upstreams)) groups.set(name, createUpstreamGroup(u));
  const router = compileRouter(config.routes);
  return { client: new UpstreamClient(config, groups, router.routes.map((r) => r.paramNames)), groups, config };
}

test('fetch: status, headers as a flat list without hop-by-hop ones, whole body', async () => {
  const { client, groups } = await setup();
  try {
    const r = await client.fetch('up', { method: 'GET', path: '/x?q=1', headers: ['x-test', 'yes'] }, { timeoutMs: 5000 });
    assert.equal(r.status, 201);
    assert.equal(r.body.toString(), 'GET /x?q=1 yes');
    // Chunked (no length), keep-alive, connection and the x-hop it names are per hop.
    assert.deepEqual(r.headers.filter((_, i) => i % 2 === 0).filter((n) => n !== 'date'), ['content-type', 'set-cookie', 'set-cookie']);
    assert.deepEqual(r.headers.slice(2, 6), ['set-cookie', 'a=1', 'set-cookie', 'b=2']);
    assert.equal(groups.get('up')!.targets[0].inflight, 0);
  } finally {
    await Promise.all([...groups.values()].map((g) => g.close()));
  }
});

test('fetch failures are the gateway\'s errors: no upstream, connect refused (counted for passive health), timeout, too large', async () => {
  const { client, groups } = await setup();
  try {
    const code = async (p: Promise<unknown>): Promise<string> => {
      try { await p; return 'resolved'; } catch (err) { assert.ok(err instanceof GatewayError); return err.code; }
    };
    assert.equal(await code(client.fetch('nope', { method: 'GET', path: '/' }, { timeoutMs: 1000 })), 'upstream_unavailable');
    assert.equal(await code(client.fetch('down', { method: 'GET', path: '/' }, { timeoutMs: 1000 })), 'upstream_connect_failed');
    assert.equal(groups.get('down')!.targets[0].consecutiveFailures, 1);
    assert.equal(await code(client.fetch('down', { method: 'GET', path: '/' }, { timeoutMs: 1000 })), 'upstream_unavailable', 'ejected');
    const t = Date.now();
    assert.equal(await code(client.fetch('up', { method: 'GET', path: '/slow' }, { timeoutMs: 150 })), 'upstream_timeout');
    assert.ok(Date.now() - t < 1500);
    assert.equal(await code(client.fetch('up', { method: 'GET', path: '/big' }, { timeoutMs: 2000, maxBodyBytes: 4096 })), 'upstream_response_too_large');
    assert.equal(groups.get('up')!.targets[0].inflight, 0);
  } finally {
    await Promise.all([...groups.values()].map((g) => g.close()));
  }
});

test('forwardRequest: the route\'s upstream, rewritten path, forwarded headers without framing; the sticky split side', async () => {
  const { client, groups, config } = await setup();
  try {
    const router = compileRouter(config.routes);
    const ctx = new RequestContext(null as never);
    ctx.method = 'GET';
    ctx.path = '/items/42';
    ctx.query = 'a=1';
    ctx.rawHost = 'shop.example.com';
    ctx.peerIp = ctx.clientIp = '10.1.2.3';
    ctx.requestId = 'rid-1';
    for (const [n, v] of [['accept', 'text/plain'], ['content-length', '3'], ['connection', 'keep-alive']]) ctx.addHeader(n, v);
    ctx.contentLength = 3;
    const m = router.match('GET', ctx.rawHost, ctx.path, ctx, ctx.params);
    assert.ok(m !== null && m.kind === 'route');
    ctx.route = m;
    const f = client.forwardRequest(ctx)!;
    assert.equal(f.upstream, 'up');
    assert.equal(f.path, '/v1/items/42?a=1');
    assert.deepEqual(f.headers, ['accept', 'text/plain', 'x-forwarded-for', '10.1.2.3', 'x-forwarded-proto', 'http', 'x-forwarded-host', 'shop.example.com', 'x-request-id', 'rid-1']);
    const picks = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const c2 = new RequestContext(null as never);
      c2.method = 'GET'; c2.path = '/split/x'; c2.addHeader('x-user', 'u-7');
      const m2 = router.match('GET', '', c2.path, c2, c2.params);
      assert.ok(m2 !== null && m2.kind === 'route');
      c2.route = m2;
      picks.add(client.forwardRequest(c2)!.upstream);
    }
    assert.equal(picks.size, 1, 'a sticky split picks one side for one user');
  } finally {
    await Promise.all([...groups.values()].map((g) => g.close()));
  }
});
