import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { configFromYaml, startUpstream, type TestUpstream } from './helpers.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';

interface Reply { status: number; headers: IncomingMessage['headers']; body: string; json: Record<string, unknown> | null }

/**
 * One request through node:http on a fresh connection, to `host` (the
 * gateway's listen address family) from `from` (a loopback source address:
 * all of 127.0.0.0/8 is local on Linux, so 127.0.0.2 is a second IPv4 client).
 */
function send(
  port: number, path: string,
  opts: { host?: string; from?: string; headers?: Record<string, string>; method?: string; body?: string; agent?: Agent } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: opts.host ?? '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: opts.agent ?? false,
      ...(opts.from === undefined ? {} : { localAddress: opts.from }),
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const json = body !== '' && /json/.test(String(res.headers['content-type'])) ? JSON.parse(body) as Record<string, unknown> : null;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Starts a gateway worker on an ephemeral port of `host` ('127.0.0.1' or '::'). */
async function gateway(yaml: string, host = '127.0.0.1'): Promise<GatewayWorker> {
  const config = configFromYaml(yaml);
  config.server.host = host;
  return startWorker(config);
}

/** An address in its shortest form (IPv6 compressed, lower case; IPv4 as is). */
function canonicalIp(ip: string): string {
  return ip.includes(':') ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** Paths the upstream received (refused requests must never show up). */
function seenPaths(up: TestUpstream): string[] {
  return up.seen.map((s) => s.url);
}

function assertForbidden(r: Reply, path: string): void {
  assert.equal(r.status, 403, `${path}: ${r.body}`);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.json?.code, 'ip_forbidden');
  assert.equal(r.json?.type, 'urn:turnpike:problem:ip_forbidden');
  assert.equal(r.json?.instance, path);
}

describe('ip-restriction end to end (real gateway, real upstream)', () => {
  let up: TestUpstream;
  let v4: GatewayWorker;
  let dual: GatewayWorker;
  let proxied: GatewayWorker;

  before(async () => {
    up = await startUpstream('up');
    const upstreams = `upstreams:\n  up: { targets: [ { url: "${up.url}" } ] }\n`;
    v4 = await gateway(`${upstreams}globalPolicies: [ per-ip ]
policies:
  per-ip: { rate-limit: { key: ip, limit: 1000, window: 1m } }
  only-one: { ip-restriction: { allow: [ 127.0.0.1 ] } }
  no-loopback: { ip-restriction: { deny: [ 127.0.0.0/8 ] } }
  no-two: { ip-restriction: { deny: [ 127.0.0.2 ] } }
  office: { ip-restriction: { allow: [ 127.0.0.0/8 ], deny: [ 127.0.0.2/32 ] } }
  hidden: { ip-restriction: { deny: [ 127.0.0.0/8 ], status: 404 } }
routes:
  - { name: open, match: { path: /open }, upstream: up }
  - { name: only-one, match: { path: /only-one }, upstream: up, policies: [ only-one ] }
  - { name: no-loopback, match: { path: /no-loopback }, upstream: up, policies: [ no-loopback ] }
  - { name: no-two, match: { path: /no-two }, upstream: up, policies: [ no-two ] }
  - { name: office, match: { path: /office }, upstream: up, policies: [ office ] }
  - { name: hidden, match: { path: /secret, host: hidden.example }, upstream: up, policies: [ hidden ] }
  - name: inline
    match: { path: /inline }
    upstream: up
    policies: [ { ip-restriction: { allow: [ "::1", 10.0.0.0/8 ] } } ]
`);
    dual = await gateway(`${upstreams}routes:
  - { name: v4-rule, match: { path: /v4-rule }, upstream: up, policies: [ { ip-restriction: { allow: [ 127.0.0.0/8 ] } } ] }
  - { name: v6-rule, match: { path: /v6-rule }, upstream: up, policies: [ { ip-restriction: { allow: [ "::1" ] } } ] }
  - { name: deny-v4, match: { path: /deny-v4 }, upstream: up, policies: [ { ip-restriction: { deny: [ 127.0.0.1 ] } } ] }
  - { name: deny-v6, match: { path: /deny-v6 }, upstream: up, policies: [ { ip-restriction: { deny: [ "::1/128" ] } } ] }
  - { name: mapped-rule, match: { path: /mapped-rule }, upstream: up, policies: [ { ip-restriction: { allow: [ "::ffff:127.0.0.0/104" ] } } ] }
`, '::');
    proxied = await gateway(`server: { trustedProxies: [ 127.0.0.1 ] }
${upstreams}routes:
  - name: partners
    match: { path: /partners }
    upstream: up
    policies: [ { ip-restriction: { allow: [ 203.0.113.0/24 ], deny: [ 203.0.113.66 ] } } ]
`);
  });

  after(async () => {
    await Promise.all([v4?.drain(1000), dual?.drain(1000), proxied?.drain(1000)]);
    await up?.close();
  });

  test('IPv4 clients: allowed ones reach the upstream, refused ones get 403 ip_forbidden and never do', async () => {
    const p = v4.port;
    const before = up.seen.length;
    assert.equal((await send(p, '/open', { from: '127.0.0.2' })).status, 200);
    assert.equal((await send(p, '/only-one', { from: '127.0.0.1' })).status, 200);
    assertForbidden(await send(p, '/only-one', { from: '127.0.0.2' }), '/only-one');
    assertForbidden(await send(p, '/no-loopback', { from: '127.0.0.1' }), '/no-loopback');
    assertForbidden(await send(p, '/no-loopback?x=1', { from: '127.0.0.3', method: 'POST', body: 'x'.repeat(100_000) }), '/no-loopback');
    assert.equal((await send(p, '/no-two', { from: '127.0.0.1' })).status, 200, 'deny-only: any other address passes');
    assertForbidden(await send(p, '/no-two', { from: '127.0.0.2' }), '/no-two');
    assert.equal((await send(p, '/office', { from: '127.0.0.3' })).status, 200);
    assertForbidden(await send(p, '/office', { from: '127.0.0.2' }), '/office');
    assertForbidden(await send(p, '/inline', { from: '127.0.0.1' }), '/inline');
    assert.deepEqual(seenPaths(up).slice(before), ['/open', '/only-one', '/no-two', '/office']);
  });

  test('an untrusted peer cannot get in with X-Forwarded-For or similar headers', async () => {
    const before = up.seen.length;
    const spoof = { 'x-forwarded-for': '127.0.0.1', 'x-real-ip': '127.0.0.1', forwarded: 'for=127.0.0.1' };
    assertForbidden(await send(v4.port, '/only-one', { from: '127.0.0.2', headers: spoof }), '/only-one');
    assertForbidden(await send(v4.port, '/office', { from: '127.0.0.2', headers: { 'x-forwarded-for': '127.0.0.3, 127.0.0.4' } }), '/office');
    // and a spoofed header does not get an allowed client refused either
    const ok = await send(v4.port, '/no-two', { from: '127.0.0.1', headers: { 'x-forwarded-for': '127.0.0.2' } });
    assert.equal(ok.status, 200);
    assert.deepEqual(seenPaths(up).slice(before), ['/no-two']);
    assert.equal(up.seen.at(-1)!.headers['x-forwarded-for'], '127.0.0.1', 'the spoofed chain is replaced by the peer');
  });

  test('status 404 hides the route: the same answer as an unmatched request', async () => {
    const before = up.seen.length;
    const id = { 'x-request-id': 'same-id-1' };
    const hidden = await send(v4.port, '/secret', { from: '127.0.0.1', headers: { host: 'hidden.example', ...id } });
    const unmatched = await send(v4.port, '/secret', { from: '127.0.0.1', headers: { host: 'other.example', ...id } });
    assert.equal(hidden.status, 404);
    assert.equal(hidden.json?.code, 'route_not_found');
    assert.equal(hidden.headers.ratelimit, undefined, 'the global rate limit\'s header fields are dropped too');
    const shown = await send(v4.port, '/no-loopback', { from: '127.0.0.1' });
    assert.equal(shown.status, 403);
    assert.match(String(shown.headers.ratelimit), /^"per-ip";r=\d+;t=\d+$/, 'a 403 keeps what earlier policies added');
    assert.equal(hidden.body, unmatched.body);
    const withoutDate = (h: IncomingMessage['headers']): IncomingMessage['headers'] => { const c = { ...h }; delete c.date; return c; };
    assert.deepEqual(withoutDate(hidden.headers), withoutDate(unmatched.headers));
    assert.equal(up.seen.length, before);
  });

  test('dual-stack listener: an IPv6 client matches IPv6 rules, an IPv4 client (::ffff:127.0.0.1) matches IPv4 rules', async () => {
    const p = dual.port;
    const before = up.seen.length;
    // IPv6 client ::1
    assert.equal((await send(p, '/v6-rule', { host: '::1' })).status, 200);
    assertForbidden(await send(p, '/v4-rule', { host: '::1' }), '/v4-rule');
    assertForbidden(await send(p, '/deny-v6', { host: '::1' }), '/deny-v6');
    assert.equal((await send(p, '/deny-v4', { host: '::1' })).status, 200);
    assertForbidden(await send(p, '/mapped-rule', { host: '::1' }), '/mapped-rule');
    // IPv4 client on the same listener: the socket reports ::ffff:127.0.0.1
    assert.equal((await send(p, '/v4-rule', { host: '127.0.0.1' })).status, 200);
    assertForbidden(await send(p, '/v6-rule', { host: '127.0.0.1' }), '/v6-rule');
    assertForbidden(await send(p, '/deny-v4', { host: '127.0.0.1' }), '/deny-v4');
    assert.equal((await send(p, '/deny-v6', { host: '127.0.0.1' })).status, 200);
    assert.equal((await send(p, '/mapped-rule', { host: '127.0.0.1' })).status, 200, 'an IPv4-mapped rule matches the IPv4 client');
    const seen = up.seen.slice(before);
    assert.deepEqual(seen.map((s) => s.url), ['/v6-rule', '/deny-v4', '/v4-rule', '/deny-v6', '/mapped-rule']);
    // uWS reports the peers as 0000:…:0001 and 0000:…:ffff:7f00:0001; the gateway turns the mapped one into 127.0.0.1.
    assert.deepEqual(seen.map((s) => canonicalIp(String(s.headers['x-forwarded-for']))), ['::1', '::1', '127.0.0.1', '127.0.0.1', '127.0.0.1']);
  });

  test('behind a trusted proxy (peer 127.0.0.1) X-Forwarded-For decides; through an untrusted peer it is ignored', async () => {
    const p = proxied.port;
    const before = up.seen.length;
    const via = (xff: string | null, from = '127.0.0.1'): Promise<Reply> => send(p, '/partners', { from, headers: xff === null ? {} : { 'x-forwarded-for': xff } });
    assert.equal((await via('203.0.113.5')).status, 200);
    assert.equal((await via('::ffff:203.0.113.6')).status, 200, 'an IPv4-mapped X-Forwarded-For entry matches IPv4 rules');
    assertForbidden(await via('198.51.100.1'), '/partners');
    assertForbidden(await via('203.0.113.66'), '/partners');
    // The client prepends an allowed address; the proxy appends the real one (right-most untrusted entry counts).
    assertForbidden(await via('203.0.113.5, 198.51.100.9'), '/partners');
    // A denied client hides behind the proxy chain: 127.0.0.1 entries are trusted hops, skipped.
    assertForbidden(await via('203.0.113.66, 127.0.0.1'), '/partners');
    assert.equal((await via('198.51.100.9, 203.0.113.7, 127.0.0.1')).status, 200);
    // No or unparseable X-Forwarded-For: the peer itself (127.0.0.1) is checked.
    assertForbidden(await via(null), '/partners');
    assertForbidden(await via('not-an-ip'), '/partners');
    // The same header from an untrusted peer is ignored: its own address is checked.
    assertForbidden(await via('203.0.113.5', '127.0.0.2'), '/partners');
    // Each request of a keep-alive connection is decided on its own.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const ports = new Set<number>();
    agent.on('free', (sock) => ports.add(sock.localPort ?? 0));
    assert.equal((await send(p, '/partners', { agent, headers: { 'x-forwarded-for': '203.0.113.8' } })).status, 200);
    assertForbidden(await send(p, '/partners', { agent, headers: { 'x-forwarded-for': '203.0.113.66' } }), '/partners');
    assert.equal((await send(p, '/partners', { agent, headers: { 'x-forwarded-for': '203.0.113.9' } })).status, 200);
    agent.destroy();
    assert.equal(ports.size, 1, 'one connection');
    const seen = up.seen.slice(before);
    assert.deepEqual(seen.map((s) => s.headers['x-forwarded-for']), [
      '203.0.113.5, 127.0.0.1', '::ffff:203.0.113.6, 127.0.0.1', '198.51.100.9, 203.0.113.7, 127.0.0.1, 127.0.0.1',
      '203.0.113.8, 127.0.0.1', '203.0.113.9, 127.0.0.1',
    ]);
  });
});

describe('ip-restriction config errors (turnpike validate)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-ip-restriction-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = fileURLToPath(new URL('../../../bin/turnpike.js', import.meta.url));

  function validate(name: string, yaml: string): Promise<{ code: number; stdout: string; stderr: string; file: string }> {
    const file = join(dir, name);
    writeFileSync(file, yaml);
    return new Promise((resolve) => {
      execFile(process.execPath, [bin, 'validate', '--config', file], { env: { PATH: process.env.PATH ?? '' } }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr, file });
      });
    });
  }

  test('bad CIDRs and empty lists are reported with file:line:col and path, exit 1', async () => {
    const r = await validate('bad.yaml', `upstreams:
  up: { targets: [ { url: "http://127.0.0.1:3001" } ] }
policies:
  office:
    ip-restriction:
      allow: [ 10.0.0.0/8, "2001:db8::/32", 10.0.0.0/33 ]
      deny: []
  nothing: { ip-restriction: { status: 404 } }
routes:
  - name: r
    match: { path: /r }
    upstream: up
    policies:
      - office
      - ip-restriction: { deny: [ 192.168.1/24 ] }
`);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(r.stderr.trim().split('\n'), [
      'invalid configuration (4 errors):',
      `${r.file}:6:45: policies.office.ip-restriction.allow[2]: not a CIDR: the prefix length must be 0-32 for IPv4`,
      `${r.file}:7:13: policies.office.ip-restriction.deny: must not be empty (leave the list out instead)`,
      `${r.file}:8:30: policies.nothing.ip-restriction: needs an allow list, a deny list, or both`,
      `${r.file}:15:35: routes[0].policies[1].ip-restriction.deny[0]: not a CIDR or IP address (e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.7)`,
    ]);
  });

  test('a valid config passes validate', async () => {
    const r = await validate('good.yaml', `upstreams:
  up: { targets: [ { url: "http://127.0.0.1:3001" } ] }
policies:
  office: { ip-restriction: { allow: [ 10.0.0.0/8, "2001:db8::/32" ], deny: [ 10.9.0.0/16 ] } }
routes:
  - { name: r, match: { path: /r }, upstream: up, policies: [ office ] }
`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /OK \(1 routes, 1 upstreams\)/);
  });
});
