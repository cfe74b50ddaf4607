import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../ingress/request-context.js';
import type { PolicySpec, ResponseHead } from '../types.js';
import { headersFactory, headersInstance } from './index.js';

function spec(config: unknown, name = 'h'): PolicySpec {
  return { name, kind: 'headers', config, at: ['policies', name, 'headers'] };
}

function context(headers: Array<[string, string]>): RequestContext {
  const ctx = new RequestContext(null as never);
  ctx.method = 'POST';
  ctx.path = '/orders/7';
  ctx.query = 'q=a%0D%0Ab';
  ctx.clientIp = '198.51.100.4';
  ctx.requestId = 'rid-1';
  ctx.route = { name: 'orders', paramNames: ['id'] } as never;
  ctx.params.push('7');
  for (const [n, v] of headers) { ctx.headerNames.push(n); ctx.headerValues.push(v); }
  return ctx;
}

function pairs(ctx: RequestContext): string[] {
  return ctx.headerNames.map((n, i) => `${n}: ${ctx.headerValues[i]}`);
}

test('only the phases a policy needs are defined', () => {
  const both = headersInstance(spec({ request: { remove: ['x-a'] }, response: { remove: ['server'] } }));
  assert.equal(both.name, 'headers:h');
  assert.equal(typeof both.access, 'function');
  assert.equal(typeof both.responseHead, 'function');
  const res = headersInstance(spec({ response: { set: { 'x-served-by': 'turnpike' } } }));
  assert.equal(res.access, undefined);
  assert.equal(typeof res.responseHead, 'function');
  const req = headersInstance(spec({ request: { set: { 'x-a': '1' } } }));
  assert.equal(req.responseHead, undefined);
});

test('request edits: remove → rename → set → add, names lower-cased, values from the request as it arrived', () => {
  const p = headersInstance(spec({
    request: {
      set: { 'X-Client-IP': '${client_ip}', 'X-Route': '${route}', 'x-copy': '${header.x-debug}', authorization: 'Bearer ${header.x-token}' },
      add: { 'x-tag': 'gw', 'X-Item': 'item-${param.id}' },
      remove: ['X-Debug', 'authorization'],
      rename: { 'X-Token': 'x-old-token', 'x-user': 'x-upstream-user' },
    },
  }));
  const ctx = context([
    ['x-client-ip', '6.6.6.6'], ['x-debug', 'on'], ['authorization', 'Basic c3B vb2Y='], ['x-token', 't0k'],
    ['x-tag', 'client'], ['x-upstream-user', 'spoof'], ['x-user', 'ann'], ['x-user', 'bob'], ['accept', '*/*'],
  ]);
  assert.equal(p.access!(ctx), undefined);
  assert.deepEqual(pairs(ctx), [
    // The rename is like mv: the client's own x-upstream-user is replaced by the renamed values (kept in place).
    'x-old-token: t0k', 'x-tag: client', 'x-upstream-user: ann', 'x-upstream-user: bob', 'accept: */*',
    'x-client-ip: 198.51.100.4', 'x-route: orders', 'x-copy: on', 'authorization: Bearer t0k',
    'x-tag: gw', 'x-item: item-7',
  ]);
});

test('a set value that renders empty removes the header; an empty add adds nothing', () => {
  const p = headersInstance(spec({ request: { set: { 'x-consumer-id': '${consumer.id}' }, add: { 'x-consumer-name': '${consumer.username}' } } }));
  const ctx = context([['x-consumer-id', 'spoofed'], ['x-consumer-name', 'spoofed-too']]);
  p.access!(ctx);
  // No consumer: the client's x-consumer-id must not pass as if the gateway had set it.
  assert.deepEqual(pairs(ctx), ['x-consumer-name: spoofed-too']);
  const ctx2 = context([['x-consumer-id', 'spoofed']]);
  ctx2.consumer = { id: 'c1', username: 'ann', groups: [], credential: { kind: 'api-key', id: 'k' }, claims: null };
  p.access!(ctx2);
  assert.deepEqual(pairs(ctx2), ['x-consumer-id: c1', 'x-consumer-name: ann']);
});

test('injection: CR/LF from a header or a decoded query never reaches a request header', () => {
  const p = headersInstance(spec({ request: { set: { 'x-from-header': '${header.x}', 'x-from-query': '${query.q}' } } }));
  const ctx = context([['x', 'a\r\nInjected: 1']]);
  p.access!(ctx);
  assert.deepEqual(pairs(ctx), ['x: a\r\nInjected: 1', 'x-from-header: aInjected: 1', 'x-from-query: ab']);
});

test('response edits work on the head list: remove, rename like mv, set, add, templates', () => {
  const p = headersInstance(spec({
    response: {
      remove: ['server', 'X-Powered-By'],
      rename: { 'x-upstream-cache': 'x-cache' },
      set: { 'x-served-by': 'turnpike', 'x-route': '${route}', 'x-evil': '${query.q}' },
      add: { 'cache-control': 'no-transform', vary: 'x-team' },
    },
  }));
  const ctx = context([]);
  const head: ResponseHead = {
    status: 200,
    headers: ['content-type', 'text/plain', 'server', 'nginx', 'x-powered-by', 'php', 'x-cache', 'old',
      'x-upstream-cache', 'HIT', 'cache-control', 'max-age=60', 'x-served-by', 'upstream', 'server', 'again'],
  };
  assert.equal(p.responseHead!(ctx, head), undefined);
  assert.deepEqual(head.headers, [
    'content-type', 'text/plain', 'x-cache', 'HIT', 'cache-control', 'max-age=60',
    'x-served-by', 'turnpike', 'x-route', 'orders', 'x-evil', 'ab',
    'cache-control', 'no-transform', 'vary', 'x-team',
  ]);
  // Renaming an absent header leaves its target alone.
  const head2: ResponseHead = { status: 502, headers: ['x-cache', 'kept'] };
  p.responseHead!(ctx, head2);
  assert.deepEqual(head2.headers.slice(0, 2), ['x-cache', 'kept']);
});

test('the provider builds one instance per spec, once', () => {
  const a = spec({ response: { set: { 'x-a': '1' } } }, 'a');
  const b = spec({ request: { add: { 'x-b': '${method}' } } }, 'b');
  const provider = headersFactory.create([a, b], null as never, null as never);
  const ia = provider.instance(a);
  assert.equal(provider.instance(a), ia);
  assert.equal(provider.instance(b).name, 'headers:b');
  assert.equal(provider.status(), null);
  const ctx = context([]);
  provider.instance(b).access!(ctx);
  assert.deepEqual(pairs(ctx), ['x-b: POST']);
});
