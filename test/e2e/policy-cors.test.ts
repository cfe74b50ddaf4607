import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { deadPort, nodeRequest, startGateway, startUpstream, type TestGateway, type TestUpstream } from './helpers.js';

const APP = 'https://app.example.com';

/** The access-control-* headers of a response (name → value). */
function corsHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (k.startsWith('access-control-')) out[k] = String(v);
  return out;
}

function preflightHeaders(origin: string, method: string, requestHeaders?: string): Record<string, string> {
  const h: Record<string, string> = { origin, 'access-control-request-method': method };
  if (requestHeaders !== undefined) h['access-control-request-headers'] = requestHeaders;
  return h;
}

describe('cors policy end to end (real gateway, real upstream)', () => {
  let echo: TestUpstream; let gw: TestGateway;

  before(async () => {
    echo = await startUpstream('echo', (req, res) => {
      const headers: Record<string, string> = { 'content-type': 'text/plain', 'x-upstream': 'echo' };
      // An upstream with its own (origin-reflecting) CORS and a Vary of its own.
      if (req.url?.includes('upstream-cors')) {
        headers.vary = 'Accept-Encoding';
        headers['access-control-allow-origin'] = req.headers.origin ?? '*';
        headers['access-control-allow-methods'] = 'DELETE';
      }
      res.writeHead(200, headers);
      res.end(`${req.method} ${req.url}`);
    });
    const dead = await deadPort();
    gw = await startGateway(`
upstreams:
  echo: { targets: [ { url: "${echo.url}" } ] }
  dead:
    targets: [ { url: "http://127.0.0.1:${dead}" } ]
    passiveHealth: { consecutiveFailures: 0 }
policies:
  web-cors:
    cors:
      origins: [ "${APP}", "https://*.example.org" ]
      methods: [ GET, POST, PUT ]
      headers: [ content-type, authorization ]
      exposeHeaders: [ x-request-id, x-upstream ]
      credentials: true
      maxAge: 10m
  open-cors: { cors: { origins: "*", exposeHeaders: [ x-upstream ] } }
  tight: { rate-limit: { key: "header:x-client", limit: 1, window: 1m, burst: 1 } }
routes:
  - { name: web, match: { path: /web/* }, upstream: echo, policies: [ web-cors ] }
  - { name: strict, match: { path: /strict/*, methods: [ GET, PUT ] }, upstream: echo, policies: [ web-cors ] }
  - { name: bare, match: { path: /bare/*, methods: [ GET ] }, upstream: echo }
  - { name: open, match: { path: /open/* }, upstream: echo, policies: [ open-cors ] }
  - { name: limited, match: { path: /limited/* }, upstream: echo, policies: [ tight, web-cors ] }
  - { name: dead, match: { path: /dead/* }, upstream: dead, policies: [ web-cors ] }
`);
  });
  after(async () => { await gw?.close(); await echo?.close(); });

  test('an allowed preflight is answered 204 by the gateway with every configured header; the upstream sees nothing', async () => {
    const before = echo.seen.length;
    const res = await nodeRequest(gw.port, '/web/items', preflightHeaders(APP, 'PUT', 'content-type,authorization'), 'OPTIONS');
    assert.equal(res.status, 204);
    assert.equal(res.body, '');
    assert.deepEqual(corsHeaders(res.headers), {
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'GET, POST, PUT',
      'access-control-allow-headers': 'content-type, authorization',
      'access-control-max-age': '600',
    });
    assert.equal(res.headers.vary, 'Origin');
    assert.equal(echo.seen.length, before);
  });

  test('preflights from a disallowed origin, or for a disallowed method or header: 403 cors_forbidden, no CORS headers, never forwarded', async () => {
    const before = echo.seen.length;
    for (const h of [
      preflightHeaders('https://evil.test', 'GET'),
      preflightHeaders('https://app.example.com.evil.com', 'GET'),
      preflightHeaders('null', 'GET'),
      preflightHeaders(APP, 'DELETE'),
      preflightHeaders(APP, 'PUT', 'content-type,x-debug'),
    ]) {
      const res = await nodeRequest(gw.port, '/web/items', h, 'OPTIONS');
      assert.equal(res.status, 403, JSON.stringify(h));
      assert.equal(res.headers['content-type'], 'application/problem+json');
      assert.equal((JSON.parse(res.body) as { code: string }).code, 'cors_forbidden');
      assert.deepEqual(corsHeaders(res.headers), {}, JSON.stringify(h));
    }
    assert.equal(echo.seen.length, before);
  });

  test('a route whose methods leave out OPTIONS: its cors policy answers the preflight; a plain OPTIONS is still 405', async () => {
    const before = echo.seen.length;
    const pre = await nodeRequest(gw.port, '/strict/items', preflightHeaders(APP, 'PUT', 'content-type'), 'OPTIONS');
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], APP);
    const plain = await nodeRequest(gw.port, '/strict/items', { origin: APP }, 'OPTIONS');
    assert.equal(plain.status, 405);
    assert.equal(plain.headers.allow, 'GET, HEAD, PUT');
    // A preflight for a method the route does not allow: no route to ask, 405.
    const wrong = await nodeRequest(gw.port, '/strict/items', preflightHeaders(APP, 'DELETE', 'content-type'), 'OPTIONS');
    assert.equal(wrong.status, 405);
    // A route without policies: the preflight is an ordinary 405.
    const bare = await nodeRequest(gw.port, '/bare/x', preflightHeaders(APP, 'GET', 'content-type'), 'OPTIONS');
    assert.equal(bare.status, 405);
    assert.equal(bare.headers['access-control-allow-origin'], undefined);
    assert.equal(echo.seen.length, before, 'nothing reached the upstream');
  });

  test('an OPTIONS without Access-Control-Request-Method is not a preflight: it goes upstream', async () => {
    const res = await nodeRequest(gw.port, '/web/opts', { origin: APP }, 'OPTIONS');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'OPTIONS /web/opts');
    assert.equal(res.headers['access-control-allow-origin'], APP);
  });

  test('an actual request from an allowed origin: origin echoed, credentials, exposed headers, Vary: Origin', async () => {
    const res = await nodeRequest(gw.port, '/web/items', { origin: APP });
    assert.equal(res.status, 200);
    assert.equal(res.body, 'GET /web/items');
    assert.deepEqual(corsHeaders(res.headers), {
      'access-control-allow-origin': APP,
      'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'x-request-id, x-upstream',
    });
    assert.equal(res.headers.vary, 'Origin');
  });

  test('the upstream\'s own CORS headers are replaced and its Vary is appended to, not clobbered', async () => {
    const ok = await nodeRequest(gw.port, '/web/upstream-cors', { origin: APP });
    assert.equal(ok.headers.vary, 'Accept-Encoding, Origin');
    assert.equal(ok.headers['access-control-allow-origin'], APP);
    assert.equal(ok.headers['access-control-allow-methods'], undefined);
    const evil = await nodeRequest(gw.port, '/web/upstream-cors', { origin: 'https://evil.test' });
    assert.equal(evil.status, 200);
    assert.deepEqual(corsHeaders(evil.headers), {});
    assert.equal(evil.headers.vary, 'Accept-Encoding, Origin');
  });

  test('a disallowed origin (and no origin) gets no CORS headers, only Vary: Origin', async () => {
    for (const h of [{ origin: 'https://evil.test' }, { origin: 'null' }, {}] as Array<Record<string, string>>) {
      const res = await nodeRequest(gw.port, '/web/items', h);
      assert.equal(res.status, 200);
      assert.deepEqual(corsHeaders(res.headers), {}, JSON.stringify(h));
      assert.equal(res.headers.vary, 'Origin');
    }
  });

  test('wildcard subdomains: any subdomain depth matches; apex, lookalikes, other scheme or port do not', async () => {
    for (const origin of ['https://a.example.org', 'https://a.b.example.org']) {
      const res = await nodeRequest(gw.port, '/web/w', { origin });
      assert.equal(res.headers['access-control-allow-origin'], origin);
      const pre = await nodeRequest(gw.port, '/web/w', preflightHeaders(origin, 'GET'), 'OPTIONS');
      assert.equal(pre.status, 204);
      assert.equal(pre.headers['access-control-allow-origin'], origin);
    }
    for (const origin of ['https://example.org', 'https://example.org.evil.com', 'https://evil-example.org', 'http://a.example.org',
      'https://a.example.org:8443', 'https://.example.org']) {
      const res = await nodeRequest(gw.port, '/web/w', { origin });
      assert.deepEqual(corsHeaders(res.headers), {}, origin);
      const pre = await nodeRequest(gw.port, '/web/w', preflightHeaders(origin, 'GET'), 'OPTIONS');
      assert.equal(pre.status, 403, origin);
    }
  });

  test('"*" without credentials: a literal * on preflights and actual requests, no credentials; null is refused', async () => {
    const res = await nodeRequest(gw.port, '/open/x', { origin: 'https://anyone.test' });
    assert.deepEqual(corsHeaders(res.headers), { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'x-upstream' });
    const pre = await nodeRequest(gw.port, '/open/x', preflightHeaders('https://anyone.test', 'POST', 'x-custom'), 'OPTIONS');
    assert.equal(pre.status, 204);
    assert.deepEqual(corsHeaders(pre.headers), {
      'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, HEAD, POST', 'access-control-allow-headers': 'x-custom',
    });
    const nul = await nodeRequest(gw.port, '/open/x', { origin: 'null' });
    assert.deepEqual(corsHeaders(nul.headers), {});
  });

  test('a 429 problem response carries the CORS headers for an allowed origin', async () => {
    const h = { origin: APP, 'x-client': 'cors-429' };
    assert.equal((await nodeRequest(gw.port, '/limited/a', h)).status, 200);
    const res = await nodeRequest(gw.port, '/limited/a', h);
    assert.equal(res.status, 429);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'rate_limited');
    assert.equal(res.headers['access-control-allow-origin'], APP);
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers['access-control-expose-headers'], 'x-request-id, x-upstream');
    assert.match(String(res.headers.vary), /Origin/);
    const evil = await nodeRequest(gw.port, '/limited/a', { origin: 'https://evil.test', 'x-client': 'cors-429' });
    assert.equal(evil.status, 429);
    assert.deepEqual(corsHeaders(evil.headers), {});
  });

  test('a 502 problem response carries the CORS headers for an allowed origin', async () => {
    const res = await nodeRequest(gw.port, '/dead/x', { origin: 'https://a.example.org' });
    assert.equal(res.status, 502);
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'upstream_connect_failed');
    assert.equal(res.headers['access-control-allow-origin'], 'https://a.example.org');
    assert.equal(res.headers['access-control-allow-credentials'], 'true');
    assert.equal(res.headers.vary, 'Origin');
  });
});

describe('cors config errors name file, line and path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-cors-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function errorsOf(name: string, text: string): string[] {
    const file = join(dir, name);
    writeFileSync(file, text);
    try {
      loadConfig(file, {});
    } catch (err) {
      assert.ok(err instanceof ConfigError, String(err));
      return err.issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.path}: ${i.message}`);
    }
    assert.fail('expected a ConfigError');
  }

  const head = `upstreams:
  up: { targets: [ { url: "http://127.0.0.1:3001" } ] }
routes:
  - { match: { path: /a/* }, upstream: up, policies: [ web ] }
policies:
  web:
    cors:
`; // origins on line 8

  test('"*" with credentials: true', () => {
    assert.deepEqual(errorsOf('star.yaml', `${head}      origins: "*"\n      credentials: true\n`), [
      `${join(dir, 'star.yaml')}:8:16: policies.web.cors.origins: "*" cannot be used with credentials: true (browsers refuse it); list the allowed origins`,
    ]);
  });

  test('a malformed origin', () => {
    assert.deepEqual(errorsOf('bad.yaml', `${head}      origins:\n        - https://ok.example.com\n        - https://app.example.com/\n`), [
      `${join(dir, 'bad.yaml')}:10:11: policies.web.cors.origins[1]: must not have a path, query or fragment (an origin is scheme://host[:port], e.g. https://app.example.com or https://*.example.com)`,
    ]);
  });
});
