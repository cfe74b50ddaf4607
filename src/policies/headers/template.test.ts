import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../ingress/request-context.js';
import { compileTemplate, renderTemplate, templateParams, TemplateError } from './template.js';
import { hasControlChar, safeFieldValue } from './field-value.js';

/** A context as the handler leaves it after routing (no uWS response: the policy never touches it). */
function context(): RequestContext {
  const ctx = new RequestContext(null as never);
  ctx.method = 'GET';
  ctx.path = '/orders/42/items';
  ctx.query = 'q=caf%C3%A9&page=2&evil=a%0d%0aSet-Cookie:%20x%3D1';
  ctx.clientIp = '203.0.113.7';
  ctx.requestId = 'req-1';
  ctx.route = { name: 'orders', paramNames: ['id', '*'] } as never;
  ctx.params.push('42', 'items');
  ctx.headerNames.push('x-team', 'x-evil');
  ctx.headerValues.push('blue', 'a\r\nb\u0000c');
  return ctx;
}

test('every variable renders from the request; absent ones are empty', () => {
  const ctx = context();
  const t = compileTemplate('${client_ip}|${route}|${request_id}|${method}|${path}|${param.id}|${param.*}|${query.page}|${header.X-Team}|${consumer.id}|${consumer.username}');
  assert.equal(renderTemplate(t, ctx), '203.0.113.7|orders|req-1|GET|/orders/42/items|42|items|2|blue||');
  ctx.consumer = { id: 'c-9', username: 'ann', groups: [], credential: { kind: 'jwt', id: 'k1' }, claims: null };
  assert.equal(renderTemplate(t, ctx), '203.0.113.7|orders|req-1|GET|/orders/42/items|42|items|2|blue|c-9|ann');
  const missing = compileTemplate('[${param.nope}][${query.nope}][${header.nope}]');
  assert.equal(renderTemplate(missing, ctx), '[][][]');
  ctx.route = null;
  assert.equal(renderTemplate(compileTemplate('${route}${param.id}'), ctx), '');
});

test('templates compile once into parts; constants render without work', () => {
  const t = compileTemplate('v1; route=${route}; $5 and $${literal}');
  assert.deepEqual([...t.codes], [0, 2, 0]);
  assert.deepEqual(t.args, ['v1; route=', '', '; $5 and ${literal}']);
  assert.equal(t.constant, null);
  const c = compileTemplate('turnpike');
  assert.equal(c.constant, 'turnpike');
  assert.equal(renderTemplate(c, context()), 'turnpike');
  assert.deepEqual(compileTemplate('${header.X-A}').args, ['x-a']);
  assert.equal(compileTemplate('').constant, '');
  assert.deepEqual(templateParams(compileTemplate('${param.a}-${param.*}-${query.b}')), ['a', '*']);
});

test('CR, LF, NUL and other controls from the request never reach a value', () => {
  const ctx = context();
  assert.equal(renderTemplate(compileTemplate('${header.x-evil}'), ctx), 'abc');
  // The query is decoded (%0d%0a becomes CR LF), then cleaned.
  assert.equal(renderTemplate(compileTemplate('<${query.evil}>'), ctx), '<aSet-Cookie: x=1>');
  ctx.params[0] = '4\n2\r';
  assert.equal(renderTemplate(compileTemplate('${param.id}'), ctx), '42');
  assert.equal(safeFieldValue('tab\tkept \u007fdel\u0001'), 'tab\tkept del');
  const clean = 'nothing to do';
  assert.equal(safeFieldValue(clean), clean);
});

test('non-ASCII text from the request is percent-encoded UTF-8, so every value is US-ASCII', () => {
  const ctx = context();
  assert.equal(renderTemplate(compileTemplate('${query.q}'), ctx), 'caf%C3%A9');
  assert.equal(safeFieldValue('é€😀\u00a0x'), '%C3%A9%E2%82%AC%F0%9F%98%80%C2%A0x');
  // A lone surrogate becomes U+FFFD; controls next to non-ASCII are still stripped.
  assert.equal(safeFieldValue('a\ud800b\r\né'), 'a%EF%BF%BDb%C3%A9');
});

test('malformed templates are refused with a reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['${nope}', /^unknown variable "\$\{nope\}" \(known: client_ip, route, request_id, method, path, param\.NAME, query\.NAME, header\.NAME, consumer\.id, consumer\.username\)$/],
    ['${consumer.email}', /^unknown variable "\$\{consumer\.email\}"/],
    ['${constructor}', /^unknown variable/],
    ['a ${route', /^unclosed "\$\{" at character 3/],
    ['${}', /^empty variable/],
    ['${param.}', /needs a name/],
    ['${header}', /needs a name/],
    ['${param.a-b}', /path param name/],
    ['${header.a b}', /not a valid header name/],
    ['line\r\nbreak', /control characters/],
    ['café ${route}', /^literal text must be US-ASCII/],
  ];
  for (const [source, message] of cases) {
    assert.throws(() => compileTemplate(source), (err: unknown) => err instanceof TemplateError && message.test(err.message), source);
  }
  assert.equal(hasControlChar('ok\tvalue'), false);
});
