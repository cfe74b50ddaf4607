/**
 * The policy pipeline end to end: test-only policy kinds on a real gateway
 * worker in front of a real upstream, one phase at a time.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { ErrorCodes } from '../../src/errors/codes.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { LocalResponse } from '../../src/policies/local-response.js';
import type { PolicyInstance } from '../../src/policies/types.js';
import { setHeader } from '../../src/lib/header-list.js';
import { testSpec, withTestKind } from './test-policy-kind.js';
import { configFromYaml, rawRequest, startGateway, startUpstream, type TestUpstream } from './helpers.js';


const logged: Array<{ route: string; status: number }> = [];

const POLICIES: Record<string, PolicyInstance[]> = {
  'async-header': [{
    name: 'test:async-header',
    access: (ctx) => new Promise((r) => setTimeout(() => { ctx.setHeader('x-async', 'yes'); r(undefined); }, 10)),
  }, {
    name: 'test:sync-after',
    access: (ctx) => { ctx.setHeader('x-sync', ctx.header('x-async') === 'yes' ? 'after-async' : 'before-async'); return undefined; },
  }],
  local: [{
    name: 'test:local',
    access: (ctx) => (ctx.method === 'OPTIONS' ? new LocalResponse(204, ['x-local', '1']) : new LocalResponse(200, ['content-type', 'text/plain'], 'mock body')),
  }, {
    name: 'test:stamp', responseHead: (_ctx, head) => { head.headers.push('x-stamp', String(head.status)); return undefined; },
  }],
  throws: [{ name: 'test:throws', access: () => { throw new Error('policy bug'); } }],
  rejects: [{ name: 'test:rejects', access: () => Promise.reject(new Error('async policy bug')) }],
  'deny-async': [{ name: 'test:deny', access: () => Promise.resolve(new GatewayError(ErrorCodes.RATE_LIMITED, 'no')) }],
  'response-head': [{
    name: 'test:head',
    responseHead: (_ctx, head) => { setHeader(head.headers, 'x-upstream', 'renamed'); head.status = 203; return undefined; },
  }],
  'replace-head': [{ name: 'test:replace', responseHead: (_ctx, head) => (head.status === 200 ? new GatewayError(ErrorCodes.UPSTREAM_BAD_RESPONSE, 'refused by policy') : undefined) }],
  'request-body': [{
    name: 'test:upper',
    requestBody: (ctx, body) => {
      if (body.toString().includes('forbidden')) return new GatewayError(ErrorCodes.BAD_REQUEST, 'forbidden word');
      ctx.requestBody = Buffer.from(body.toString().toUpperCase() + '!');
      return undefined;
    },
  }],
  'response-body': [{
    name: 'test:reverse',
    responseBody: (_ctx, res) => new Promise((r) => setImmediate(() => { res.body = Buffer.from('[' + res.body.length + ']'); res.headers.push('x-was', 'transformed'); r(undefined); })),
  }],
  'head-throws': [{ name: 'test:head-throws', responseHead: () => { throw new Error('head bug'); } }],
  'body-throws': [{ name: 'test:body-throws', responseBody: () => Promise.reject(new Error('body bug')) }],
  log: [{ name: 'test:log', onLog: (ctx) => { logged.push({ route: ctx.route!.name, status: ctx.status }); } }],
};

describe('policy pipeline', () => {
  let up: TestUpstream;
  let gw: GatewayWorker;
  let base: string;

  before(async () => {
    up = await startUpstream('up', (req, res, body) => {
      if (req.url?.endsWith('/204')) { res.writeHead(204); res.end(); return; }
      if (req.url?.endsWith('/big')) {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(Buffer.alloc(200 * 1024, 7));
        return;
      }
      // 'x-utf' is the UTF-8 bytes of "café" (node writes header strings as latin1).
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'up', 'x-utf': 'caf\u00c3\u00a9' });
      res.end(JSON.stringify({ url: req.url, headers: req.headers, body: body.toString() }));
    });
    const names = Object.keys(POLICIES);
    const yaml = `upstreams: { up: { targets: [ { url: "${up.url}" } ] } }\nroutes:\n`
      + names.map((n) => `  - { name: ${n}, match: { path: /${n}/* }, upstream: up${n === 'request-body' ? ', maxBodySize: 1kb' : ''} }\n`).join('')
      + '  - { name: plain, match: { path: /plain/* }, upstream: up }\n';
    const config = configFromYaml(yaml);
    for (const r of config.routes) {
      const list = POLICIES[r.name];
      if (list !== undefined) r.policies = list.map((p, i) => testSpec(`${r.name}-${i}`, p));
    }
    gw = await startWorker(config, { policyFactories: withTestKind() });
    base = `http://127.0.0.1:${gw.port}`;
  });
  after(async () => { await gw.drain(500); await up.close(); });

  async function call(path: string, init: { method?: string; body?: string | Buffer; headers?: Record<string, string> } = {}) {
    const r = await request(base + path, { method: (init.method ?? 'GET') as 'GET', body: init.body, headers: init.headers });
    const text = await r.body.text();
    return { status: r.statusCode, headers: r.headers, text };
  }

  test('an asynchronous access policy\'s header reaches the upstream, and later policies see it', async () => {
    const r = await call('/async-header/x');
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.text) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-async'], 'yes');
    assert.equal(seen.headers['x-sync'], 'after-async');
  });

  test('a POST body is held while an asynchronous policy decides, then forwarded whole', async () => {
    const body = Buffer.alloc(300 * 1024, 65).toString(); // above bufferBodySize: streamed
    const r = await call('/async-header/post', { method: 'POST', body });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.text) as { body: string; headers: Record<string, string> };
    assert.equal(seen.body.length, body.length);
    assert.equal(seen.headers['x-async'], 'yes');
  });

  test('local responses answer without the upstream and pass through responseHead', async () => {
    const before = up.seen.length;
    const opt = await call('/local/a', { method: 'OPTIONS' });
    assert.equal(opt.status, 204);
    assert.equal(opt.headers['x-local'], '1');
    assert.equal(opt.headers['x-stamp'], '204');
    assert.ok(opt.headers['x-request-id']);
    const get = await call('/local/b');
    assert.equal(get.status, 200);
    assert.equal(get.text, 'mock body');
    assert.equal(get.headers['content-type'], 'text/plain');
    const head = await call('/local/c', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(up.seen.length, before, 'the upstream saw none of them');
  });

  test('a throwing or rejecting policy answers 500 problem+json and the worker keeps serving', async () => {
    for (const path of ['/throws/x', '/rejects/x']) {
      const r = await call(path);
      assert.equal(r.status, 500);
      assert.equal(r.headers['content-type'], 'application/problem+json');
      assert.equal((JSON.parse(r.text) as { code: string }).code, 'internal_error');
    }
    assert.equal((await call('/plain/ok')).status, 200);
  });

  test('a response policy that throws answers 500 instead of the upstream response; the worker keeps serving', async () => {
    for (const path of ['/head-throws/x', '/body-throws/x']) {
      const r = await call(path);
      assert.equal(r.status, 500, path);
      assert.equal((JSON.parse(r.text) as { code: string }).code, 'internal_error');
    }
    assert.equal((await call('/plain/ok')).status, 200);
  });

  test('an asynchronous refusal is a problem, with an unread body closing the connection', async () => {
    const r = await call('/deny-async/x');
    assert.equal(r.status, 429);
    assert.equal((JSON.parse(r.text) as { detail: string }).detail, 'no');
  });

  test('responseHead edits status and headers of an upstream response; a replacement answers instead', async () => {
    const r = await call('/response-head/x');
    assert.equal(r.status, 203);
    assert.equal(r.headers['x-upstream'], 'renamed');
    assert.equal(JSON.parse(r.text).url, '/response-head/x');
    const rep = await call('/replace-head/x');
    assert.equal(rep.status, 502);
    assert.equal((JSON.parse(rep.text) as { detail: string }).detail, 'refused by policy');
  });

  test('requestBody: the whole body (also chunked) is buffered, may be replaced, and is limited by maxBodySize', async () => {
    const r = await call('/request-body/x', { method: 'POST', body: 'hello' });
    assert.equal(r.status, 200);
    const seen = JSON.parse(r.text) as { body: string; headers: Record<string, string> };
    assert.equal(seen.body, 'HELLO!');
    assert.equal(seen.headers['content-length'], '6');
    const chunked = await request(base + '/request-body/y', {
      method: 'POST', body: Readable.from((async function* () { yield Buffer.from('chun'); yield Buffer.from('ked'); })()),
    });
    const cj = JSON.parse(await chunked.body.text()) as { body: string };
    assert.equal(cj.body, 'CHUNKED!');
    const denied = await call('/request-body/z', { method: 'POST', body: 'a forbidden word' });
    assert.equal(denied.status, 400);
    const big = await call('/request-body/big', { method: 'POST', body: Buffer.alloc(2048, 66) });
    assert.equal(big.status, 413);
    const bigChunked = await request(base + '/request-body/big2', {
      method: 'POST', body: Readable.from((async function* () { for (let i = 0; i < 4; i++) yield Buffer.alloc(600, 67); })()),
    });
    assert.equal(bigChunked.statusCode, 413);
    await bigChunked.body.text();
  });

  test('responseBody: a large response is buffered whole, transformed, and framed with its new length', async () => {
    const r = await call('/response-body/big');
    assert.equal(r.status, 200);
    assert.equal(r.text, '[' + 200 * 1024 + ']');
    assert.equal(r.headers['content-length'], String(r.text.length));
    assert.equal(r.headers['x-was'], 'transformed');
  });

  test('header bytes >= 0x80 pass a responseHead policy unchanged', async () => {
    const raw = Buffer.from(await rawRequest(gw.port, 'GET /response-head/utf HTTP/1.1\r\nHost: x\r\n\r\n', 300), 'latin1');
    assert.ok(raw.includes(Buffer.from('x-utf: caf\u00e9', 'utf8')), raw.toString('latin1'));
  });

  test('a proxied 204 carries no Content-Length (uWS wrote a bogus one for an undefined length)', async () => {
    const raw = await rawRequest(gw.port, 'GET /plain/204 HTTP/1.1\r\nHost: x\r\n\r\n', 300);
    assert.match(raw, /^HTTP\/1\.1 204 /);
    assert.doesNotMatch(raw.toLowerCase(), /content-length/);
  });

  test('onLog sees the route and final status', async () => {
    await call('/log/x');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(logged.at(-1), { route: 'log', status: 200 });
  });
});

describe('rate-limit as a named policy (policies / globalPolicies)', () => {
  test('a global per-ip policy and a route policy both apply; a route without them is free', async () => {
    const up = await startUpstream('rl');
    const gw = await startGateway(`
server: { workers: 1 }
upstreams: { up: { targets: [ { url: "${up.url}" } ] } }
policies:
  per-ip: { rate-limit: { key: ip, limit: 4, window: 1m } }
  strict: { rate-limit: { key: [ ip, route ], limit: 2, window: 1m } }
globalPolicies: [ per-ip ]
routes:
  - { name: strict, match: { path: /strict/* }, upstream: up, policies: [ strict ] }
  - { name: loose, match: { path: /loose/* }, upstream: up }
`);
    try {
      const statuses = async (path: string, n: number): Promise<number[]> => {
        const out: number[] = [];
        for (let i = 0; i < n; i++) { const r = await request(gw.base + path); await r.body.text(); out.push(r.statusCode); }
        return out;
      };
      assert.deepEqual(await statuses('/strict/x', 3), [200, 200, 429]);
      // per-ip counted 3 so far (the 429 of `strict` came after per-ip allowed it): one left.
      assert.deepEqual(await statuses('/loose/x', 2), [200, 429]);
      const r = await request(gw.base + '/loose/y');
      assert.equal(r.headers['content-type'], 'application/problem+json');
      assert.match(String(r.headers['ratelimit-policy']), /"per-ip";q=4;w=60/);
      await r.body.text();
    } finally {
      await gw.close();
      await up.close();
    }
  });
});

describe('response edits see the headers earlier policies added', () => {
  test('a headers policy renames the RateLimit fields a rate-limit policy added', async () => {
    const up = await startUpstream('rl2');
    const gw = await startGateway(`
server: { workers: 1 }
upstreams: { up: { targets: [ { url: "${up.url}" } ] } }
policies:
  per-ip: { rate-limit: { key: ip, limit: 10, window: 1m } }
routes:
  - name: r
    match: { path: /r/* }
    upstream: up
    policies:
      - per-ip
      - headers: { response: { rename: { ratelimit-policy: x-quota-policy }, remove: [ ratelimit ] } }
`);
    try {
      const r = await request(gw.base + '/r/x');
      await r.body.text();
      assert.equal(r.statusCode, 200);
      assert.equal(r.headers['ratelimit-policy'], undefined);
      assert.equal(r.headers.ratelimit, undefined);
      assert.match(String(r.headers['x-quota-policy']), /"per-ip";q=10;w=60/);
    } finally {
      await gw.close();
      await up.close();
    }
  });
});
