import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../errors/gateway-error.js';
import { RequestContext } from '../../ingress/request-context.js';
import { LocalResponse } from '../local-response.js';
import type { ResponseHead } from '../types.js';
import { CorsPolicy } from './cors-policy.js';
import type { CorsConfig } from './schema.js';

function ctx(method: string, headers: Record<string, string>): RequestContext {
  const c = new RequestContext(null as never);
  c.method = method;
  for (const [k, v] of Object.entries(headers)) { c.headerNames.push(k); c.headerValues.push(v); }
  return c;
}

function preflight(origin: string, method: string, requestHeaders?: string): RequestContext {
  const h: Record<string, string> = { host: 'api.test', origin, 'access-control-request-method': method };
  if (requestHeaders !== undefined) h['access-control-request-headers'] = requestHeaders;
  return ctx('OPTIONS', h);
}

function head(status: number, ...headers: string[]): ResponseHead {
  return { status, headers };
}

function pairs(list: readonly string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < list.length; i += 2) {
    assert.equal(Object.hasOwn(o, list[i]), false, `duplicate header ${list[i]}`);
    o[list[i]] = list[i + 1];
  }
  return o;
}

const WEB: CorsConfig = {
  origins: ['https://app.example.com', 'https://*.example.org'],
  methods: ['GET', 'post', 'PUT'], headers: ['Content-Type', 'authorization'],
  exposeHeaders: ['x-request-id', 'RateLimit'], credentials: true, maxAge: '10m',
};

test('an allowed preflight is answered locally with 204 and every configured header', () => {
  const p = new CorsPolicy('cors:web', WEB);
  const r = p.access(preflight('https://app.example.com', 'PUT', 'content-type,Authorization'));
  assert.ok(r instanceof LocalResponse);
  assert.equal(r.status, 204);
  assert.equal(r.body, '');
  assert.deepEqual(pairs(r.headers), {
    'access-control-allow-origin': 'https://app.example.com',
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'GET, POST, PUT',
    'access-control-allow-headers': 'Content-Type, authorization',
    'access-control-max-age': '600',
    vary: 'Origin',
  });
  const w = p.access(preflight('https://a.b.example.org', 'GET'));
  assert.ok(w instanceof LocalResponse);
  assert.equal(pairs(w.headers)['access-control-allow-origin'], 'https://a.b.example.org');
});

test('preflights from a disallowed origin, or for a method or header not allowed, get 403 cors_forbidden', () => {
  const p = new CorsPolicy('cors:web', WEB);
  const cases: Array<[RequestContext, RegExp]> = [
    [preflight('https://app.example.com.evil.com', 'GET'), /origin is not allowed/],
    [preflight('https://example.org', 'GET'), /origin is not allowed/],
    [preflight('null', 'GET'), /origin is not allowed/],
    [preflight('https://app.example.com', 'DELETE'), /method .* \(allowed: GET, POST, PUT\)/],
    [preflight('https://app.example.com', 'put'), /method/],
    [preflight('https://app.example.com', 'PUT', 'content-type,x-debug'), /request header .* \(allowed: Content-Type, authorization\)/],
    [preflight('https://app.example.com', 'PUT', 'content-type\r\nx-evil: 1'), /request header/],
  ];
  for (const [c, detail] of cases) {
    const r = p.access(c);
    assert.ok(r instanceof GatewayError, c.header('origin'));
    assert.equal(r.code, 'cors_forbidden');
    assert.equal(r.status, 403);
    assert.match(r.detail ?? '', detail);
  }
});

test('requests that are not preflights continue to the upstream', () => {
  const p = new CorsPolicy('cors:web', WEB);
  assert.equal(p.access(ctx('OPTIONS', { origin: 'https://app.example.com' })), undefined);
  assert.equal(p.access(ctx('OPTIONS', { 'access-control-request-method': 'GET' })), undefined);
  assert.equal(p.access(ctx('GET', { origin: 'https://app.example.com', 'access-control-request-method': 'GET' })), undefined);
  assert.equal(p.access(ctx('OPTIONS', {})), undefined);
});

test('defaults: GET, HEAD, POST; requested headers echoed (token lists only); no max-age, no credentials', () => {
  const p = new CorsPolicy('cors:min', { origins: ['https://app.example.com'] });
  const r = p.access(preflight('https://app.example.com', 'POST', 'content-type,x-trace'));
  assert.ok(r instanceof LocalResponse);
  assert.deepEqual(pairs(r.headers), {
    'access-control-allow-origin': 'https://app.example.com',
    'access-control-allow-methods': 'GET, HEAD, POST',
    'access-control-allow-headers': 'content-type,x-trace',
    vary: 'Origin',
  });
  const bare = p.access(preflight('https://app.example.com', 'GET'));
  assert.ok(bare instanceof LocalResponse);
  assert.equal(pairs(bare.headers)['access-control-allow-headers'], undefined);
  assert.ok(p.access(preflight('https://app.example.com', 'PUT')) instanceof GatewayError);
  const bad = p.access(preflight('https://app.example.com', 'POST', 'x\r\nset-cookie: a=b'));
  assert.ok(bad instanceof GatewayError);
  assert.match(bad.detail ?? '', /not a list of header names/);
});

test('headers: [] allows no requested header; "*" allows any method and header', () => {
  const none = new CorsPolicy('cors:none', { origins: ['https://app.example.com'], headers: [] });
  const ok = none.access(preflight('https://app.example.com', 'GET'));
  assert.ok(ok instanceof LocalResponse);
  assert.equal(pairs(ok.headers)['access-control-allow-headers'], undefined);
  const no = none.access(preflight('https://app.example.com', 'GET', 'x-a'));
  assert.ok(no instanceof GatewayError);
  assert.match(no.detail ?? '', /allowed: none/);
  const any = new CorsPolicy('cors:any', { origins: '*', methods: ['*'], headers: ['*'], maxAge: 0 });
  const r = any.access(preflight('https://x.test', 'PURGE', 'x-anything'));
  assert.ok(r instanceof LocalResponse);
  assert.deepEqual(pairs(r.headers), {
    'access-control-allow-origin': '*', 'access-control-allow-methods': '*', 'access-control-allow-headers': '*',
    'access-control-max-age': '0', vary: 'Origin',
  });
  assert.ok(any.access(preflight('null', 'GET')) instanceof GatewayError);
});

test('actual request from an allowed origin: echo, credentials, expose, Vary appended; upstream CORS headers replaced', () => {
  const p = new CorsPolicy('cors:web', WEB);
  const h = head(200, 'content-type', 'application/json', 'vary', 'Accept-Encoding',
    'access-control-allow-origin', '*', 'access-control-expose-headers', 'x-secret');
  assert.equal(p.responseHead(ctx('GET', { origin: 'https://app.example.com' }), h), undefined);
  assert.deepEqual(pairs(h.headers), {
    'content-type': 'application/json',
    vary: 'Accept-Encoding, Origin',
    'access-control-allow-origin': 'https://app.example.com',
    'access-control-allow-credentials': 'true',
    'access-control-expose-headers': 'x-request-id, RateLimit',
  });
  const sub = head(429, 'content-type', 'application/problem+json');
  p.responseHead(ctx('POST', { origin: 'https://deep.sub.example.org' }), sub);
  assert.equal(pairs(sub.headers)['access-control-allow-origin'], 'https://deep.sub.example.org');
  assert.equal(pairs(sub.headers).vary, 'Origin');
});

test('actual request from a disallowed or no origin: no CORS headers (upstream ones removed), Vary: Origin still added', () => {
  const p = new CorsPolicy('cors:web', WEB);
  for (const origin of ['https://evil.test', 'https://example.org', 'https://app.example.com.evil.com', 'null', '']) {
    const h = head(200, 'access-control-allow-origin', origin, 'access-control-allow-credentials', 'true', 'x-a', '1');
    p.responseHead(ctx('GET', origin === '' ? {} : { origin }), h);
    assert.deepEqual(h.headers, ['x-a', '1', 'vary', 'Origin'], origin);
  }
});

test('"*" without credentials sends a literal * (never the origin) and no credentials header', () => {
  const p = new CorsPolicy('cors:open', { origins: '*', exposeHeaders: ['x-a'] });
  const h = head(200, 'vary', 'origin');
  p.responseHead(ctx('GET', { origin: 'https://anyone.test' }), h);
  assert.deepEqual(pairs(h.headers), { vary: 'origin', 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x-a' });
});

test('the preflight answer is left alone by responseHead (no duplicates)', () => {
  const p = new CorsPolicy('cors:web', WEB);
  const c = preflight('https://app.example.com', 'GET');
  const r = p.access(c);
  assert.ok(r instanceof LocalResponse);
  const h = head(r.status, ...r.headers);
  p.responseHead(c, h);
  assert.deepEqual(h.headers, [...r.headers]);
});

test('an uppercase origin from a non-browser client is matched and echoed as sent', () => {
  const p = new CorsPolicy('cors:web', WEB);
  const h = head(200);
  p.responseHead(ctx('GET', { origin: 'HTTPS://APP.EXAMPLE.COM' }), h);
  assert.equal(pairs(h.headers)['access-control-allow-origin'], 'HTTPS://APP.EXAMPLE.COM');
});
