import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { mapUpstreamError } from '../../src/errors/map-error.js';
import {
  allMicroCases, baselineCase, CONNECT_REFUSED, fmwLookup, headerCases, headerFixture, problemCases,
  requestIdCases, routerCases, routerFixture, turnpikeLookup, type MicroCase, type ProblemPayload,
} from './cases.js';
import { BROWSER_CLIENT_IP, CURL_CLIENT_IP, TRUSTED_PROXY_IP } from './request-fixtures.js';
import type { RouteLookup } from './route-table.js';

const here = dirname(fileURLToPath(import.meta.url));
const fx = routerFixture();
const headers = headerFixture();

function byName(cases: MicroCase[], name: string): MicroCase {
  const c = cases.find((x) => x.name === name);
  assert.ok(c, `no case named ${name}`);
  return c;
}

function pairs(flat: unknown): Map<string, string[]> {
  assert.ok(Array.isArray(flat) && flat.length % 2 === 0);
  const m = new Map<string, string[]>();
  for (let i = 0; i < flat.length; i += 2) m.set(flat[i] as string, [...(m.get(flat[i] as string) ?? []), flat[i + 1] as string]);
  return m;
}

const EXPECTED: Array<[RouteLookup, string | null, string[]]> = [
  [{ method: 'GET', path: '/v1/health', kind: 'static' }, 'GET /v1/health', []],
  [{ method: 'GET', path: '/v1/users/me', kind: 'static' }, 'GET /v1/users/me', []],
  [{ method: 'DELETE', path: '/v1/orders/4242', kind: 'param' }, 'DELETE /v1/orders/:id', ['4242']],
  [{ method: 'GET', path: '/v1/carts/7/items/9', kind: 'param' }, 'GET /v1/carts/:id/items/:subId', ['7', '9']],
  [{ method: 'GET', path: '/v1/orgs/acme/repos/web/issues/42', kind: 'param' }, 'GET /v1/orgs/:org/repos/:repo/issues/:n', ['acme', 'web', '42']],
  [{ method: 'GET', path: '/static/js/app.js', kind: 'wildcard' }, 'GET /static/*', ['js/app.js']],
  [{ method: 'GET', path: '/favicon.ico', kind: 'miss' }, null, []],
  [{ method: 'GET', path: '/v2/users/1', kind: 'miss' }, null, []],
];

test('router cases: both routers find the expected route and params for static, param, wildcard and miss paths', () => {
  for (const [lookup, name, params] of EXPECTED) {
    const ours = turnpikeLookup(fx, [lookup])();
    assert.equal(ours !== null && ours.kind === 'route' ? ours.name : null, name, lookup.path);
    if (name !== null) assert.deepEqual(fx.params, params, lookup.path);
    const theirs = fmwLookup(fx, [lookup])();
    assert.equal(theirs === null ? null : (theirs.store as { name: string }).name, name, lookup.path);
    if (theirs !== null) assert.deepEqual(Object.values(theirs.params), params, lookup.path);
  }
});

test('router cases: the lookup mix has every kind, and each turnpike/find-my-way pair agrees call by call', () => {
  const kinds = new Set(fx.lookups.map((l) => l.kind));
  assert.deepEqual([...kinds].sort(), ['miss', 'param', 'static', 'wildcard']);
  assert.ok(fx.defs.length > 250, `table has ${fx.defs.length} routes`);
  const cases = routerCases(fx);
  assert.equal(cases.length, 10);
  for (let c = 0; c < cases.length; c += 2) {
    let found = 0;
    for (let i = 0; i < 300; i++) {
      const ours = cases[c].fn() as { kind: string; name: string } | null;
      const theirs = cases[c + 1].fn() as { store: { name: string } } | null;
      assert.equal(ours === null ? null : ours.name, theirs === null ? null : theirs.store.name, cases[c].name);
      if (ours !== null) found++;
    }
    if (cases[c].name.includes('miss')) assert.equal(found, 0);
    else assert.ok(found > 0, cases[c].name);
  }
});

test('header cases: browser request via trusted proxy appends XFF, keeps X-Forwarded-Proto, drops hop-by-hop', () => {
  const cs = headerCases(headers);
  const out = pairs(byName(cs, 'headers: browser (13 hdrs, trusted XFF)').fn());
  assert.ok(headers.browser.peerTrusted);
  assert.equal(headers.browser.clientIp, BROWSER_CLIENT_IP);
  assert.deepEqual(out.get('x-forwarded-for'), [`${BROWSER_CLIENT_IP}, ${TRUSTED_PROXY_IP}`]);
  assert.deepEqual(out.get('x-forwarded-proto'), ['https']);
  assert.deepEqual(out.get('x-forwarded-host'), ['api.example.com']);
  assert.deepEqual(out.get('x-request-id'), [headers.browser.requestId]);
  assert.match(headers.browser.requestId, /^[0-9a-f]{24}-[0-9a-z]+$/);
  assert.equal(out.has('host'), false, 'host is left to the target unless preserveHost');
  assert.equal(out.has('connection'), false);
  assert.match(out.get('cookie')?.[0] ?? '', /^session=/);
  assert.match(out.get('user-agent')?.[0] ?? '', /^Mozilla\/5\.0/);
  assert.equal(out.size, 13, [...out.keys()].join(',')); // 9 forwarded + XFF, XFP, XFH, X-Request-Id
  const kept = pairs(byName(cs, 'headers: browser, preserveHost').fn());
  assert.deepEqual(kept.get('host'), ['api.example.com']);
});

test('header cases: curl request from an untrusted client gets XFF = peer and proto http', () => {
  const out = pairs(byName(headerCases(headers), 'headers: curl (3 hdrs)').fn());
  assert.equal(headers.curl.peerTrusted, false);
  assert.deepEqual(out.get('x-forwarded-for'), [CURL_CLIENT_IP]);
  assert.deepEqual(out.get('x-forwarded-proto'), ['http']);
  assert.deepEqual(out.get('x-forwarded-host'), ['api.example.com']);
  assert.deepEqual(out.get('accept'), ['*/*']);
  assert.deepEqual([...out.keys()], ['user-agent', 'accept', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id']);
});

test('problem cases: 404 and 502 bodies parse as problem+json with the right type, status and instance', () => {
  const cs = problemCases(headers);
  const nf = byName(cs, 'problem: 404 status line + body').fn() as ProblemPayload;
  assert.equal(nf.statusLine, '404 Not Found');
  const nfBody = JSON.parse(nf.body) as Record<string, unknown>;
  assert.deepEqual(nfBody, {
    type: 'urn:turnpike:problem:route_not_found', title: 'No route matches the request', status: 404,
    instance: '/v1/users/12345/items', code: 'route_not_found', requestId: headers.browser.requestId,
  });
  const bg = byName(cs, 'problem: 502 mapUpstreamError + body').fn() as ProblemPayload;
  assert.equal(bg.statusLine, '502 Bad Gateway');
  const bgBody = JSON.parse(bg.body) as Record<string, unknown>;
  assert.equal(bgBody.type, 'urn:turnpike:problem:upstream_connect_failed');
  assert.equal(bgBody.status, 502);
  assert.equal(bgBody.detail, 'Upstream connection failed (ECONNREFUSED)');
});

test('problem cases: a real undici connect failure maps to the same 502 as the benchmark\'s error', async () => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  const err = await request(`http://127.0.0.1:${port}/`).then(() => null, (e: unknown) => e);
  assert.ok(err !== null, 'request to a closed port failed');
  const real = mapUpstreamError(err);
  const ours = mapUpstreamError(CONNECT_REFUSED);
  assert.deepEqual([real.status, real.code, real.detail], [ours.status, ours.code, ours.detail]);
});

test('request-id cases: distinct prefixed counter ids; randomUUID reference gives UUIDs', () => {
  const [gen, uuid] = requestIdCases();
  const a = gen.fn() as string;
  const b = gen.fn() as string;
  assert.match(a, /^[0-9a-f]{24}-1$/);
  assert.match(b, /^[0-9a-f]{24}-2$/);
  assert.match(uuid.fn() as string, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const base = baselineCase();
  assert.deepEqual([base.fn(), base.fn()], [1, 2]);
});

test('allMicroCases: unique names covering every group', () => {
  const all = allMicroCases();
  assert.equal(new Set(all.map((c) => c.name)).size, all.length);
  assert.deepEqual([...new Set(all.map((c) => c.group))], ['baseline', 'router', 'headers', 'problem', 'request-id', 'validate', 'transform']);
});

test('micro-bench CLI smoke run: tiny minMs/rounds prints the table and writes the report', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'micro-bench-'));
  try {
    const out = join(dir, 'sub', 'report.md');
    const child = spawn(process.execPath, [join(here, 'micro-bench.js'), '--min-ms', '2', '--rounds', '1', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, stderr);
    const report = readFileSync(out, 'utf8');
    for (const c of allMicroCases()) {
      assert.match(stdout, new RegExp(`^\\| ${c.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\| [\\d,]+ \\|`, 'm'), c.name);
      assert.ok(report.includes(`| ${c.name} |`), c.name);
    }
    assert.match(report, /^# Turnpike request-path micro-benchmarks$/m);
    assert.match(report, /^- Machine: .+, \d+ cores, .*Node v\d+/m);
    assert.match(report, /^- Command: `node \S*micro-bench\.js --min-ms 2 --rounds 1 --out \S+report\.md`$/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
