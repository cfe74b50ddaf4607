// DNS service discovery against a DNS server the test runs (A, AAAA-less
// names, SRV), with real upstream servers: a changed answer changes the
// target set without reload, a failing resolver keeps the last good set,
// NXDOMAIN empties it (503 no_healthy_target).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDnsServer, type TestDnsServer } from '../fixtures/dns-server.js';
import { configFromYaml, nodeRequest } from './helpers.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { waitFor } from './resilience-helpers.js';

/** An HTTP server on `host:port` answering with its name. */
async function named(name: string, host: string, port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer((_req, res) => { res.writeHead(200, { 'x-upstream': name }); res.end(name); });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, host, resolve); });
  return { server, port: (server.address() as AddressInfo).port };
}

describe('DNS service discovery (test DNS server, real upstreams)', () => {
  let dns: TestDnsServer;
  let worker: GatewayWorker;
  const servers: Server[] = [];
  /** One port, three loopback addresses: the A records pick which serve. */
  let port = 0;
  let srvPorts: number[] = [];

  before(async () => {
    dns = await startDnsServer();
    const first = await named('a', '127.0.0.2');
    port = first.port;
    servers.push(first.server, (await named('b', '127.0.0.3', port)).server, (await named('c', '127.0.0.4', port)).server);
    const s1 = await named('srv1', '127.0.0.1');
    const s2 = await named('srv2', '127.0.0.1');
    servers.push(s1.server, s2.server);
    srvPorts = [s1.port, s2.port];
    dns.zone.set('users.test', { a: ['127.0.0.2'] });
    dns.zone.set('host.test', { a: ['127.0.0.1'] });
    dns.zone.set('_users._tcp.test', { srv: [{ target: 'host.test', port: s1.port }] });
    worker = await startWorker(configFromYaml(`
server: { workers: 1 }
upstreams:
  users:
    discovery: { dns: { name: users.test, port: ${port}, interval: 1s, servers: [ "${dns.address}" ] } }
  bysrv:
    discovery: { dns: { name: _users._tcp.test, interval: 1s, servers: [ "${dns.address}" ] } }
routes:
  - { name: users, match: { path: /users }, upstream: users }
  - { name: bysrv, match: { path: /srv }, upstream: bysrv }
`));
  });

  after(async () => {
    await worker.drain(1000);
    for (const s of servers) await new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); });
    await dns.close();
  });

  async function get(path: string): Promise<{ status: number; from: string; code: string | null }> {
    const r = await nodeRequest(worker.port, path, {});
    const code = r.headers['content-type'] === 'application/problem+json' ? (JSON.parse(r.body) as { code: string }).code : null;
    return { status: r.status, from: String(r.headers['x-upstream'] ?? ''), code };
  }

  async function answering(path: string, n = 12): Promise<string> {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) { const r = await get(path); seen.add(r.status === 200 ? r.from : String(r.code)); }
    return [...seen].sort().join();
  }

  test('A records: the first answer is used at start; a changed answer changes the targets without reload', async () => {
    assert.equal(await answering('/users'), 'a', 'resolved before the worker listened');
    dns.zone.set('users.test', { a: ['127.0.0.3', '127.0.0.4'] });
    await waitFor('b and c to replace a', async () => (await answering('/users')) === 'b,c', 10_000);
  });

  test('SRV records: port from the record, target name resolved through the same server; changes apply', async () => {
    assert.equal(await answering('/srv'), 'srv1');
    dns.zone.set('_users._tcp.test', { srv: [{ target: 'host.test', port: srvPorts[0] }, { target: 'host.test', port: srvPorts[1], weight: 3 }] });
    await waitFor('srv2 to join', async () => (await answering('/srv')) === 'srv1,srv2', 10_000);
    dns.zone.set('_users._tcp.test', { srv: [{ target: 'host.test', port: srvPorts[1] }] });
    await waitFor('srv1 to leave', async () => (await answering('/srv')) === 'srv2', 10_000);
  });

  test('a failing resolver keeps the last good set; NXDOMAIN empties it: 503 no_healthy_target', async () => {
    dns.failing = true;
    const before = dns.queries;
    await waitFor('a few failed lookups', () => dns.queries >= before + 4, 10_000);
    assert.equal(await answering('/users'), 'b,c', 'last good set kept while DNS fails');
    dns.failing = false;
    dns.zone.delete('users.test');
    await waitFor('NXDOMAIN to empty the set', async () => (await answering('/users')) === 'no_healthy_target', 10_000);
    dns.zone.set('users.test', { a: ['127.0.0.2'] });
    await waitFor('a to come back', async () => (await answering('/users')) === 'a', 10_000);
  });
});
