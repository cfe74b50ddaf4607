import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import { httpGet, ProcessSet } from '../bench-procs.js';
import { PEER_NAMES, samplePath, startNodePeer, type RunningPeer } from './peer-procs.js';

const here = dirname(fileURLToPath(import.meta.url));
// why: the compiled scripts sit beside this compiled test (.cache build or dist).
const scriptDir = here;
const repoDir = resolve(here, '../../..');

/** A keep-alive origin: GET / JSON, GET /__headers echo, POST echo, /created 201. */
async function startUpstream(): Promise<{ server: http.Server; port: number; connections: () => number }> {
  let connections = 0;
  const server = http.createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'POST') {
        const body = Buffer.concat(chunks);
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
        res.end(body);
        return;
      }
      const body = req.url === '/__headers' ? JSON.stringify(req.headers) : JSON.stringify({ ok: true, path: req.url });
      res.writeHead(req.url?.startsWith('/created') === true ? 201 : 200, {
        'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-upstream-custom': 'from-origin',
      });
      res.end(body);
    });
  });
  server.on('connection', () => { connections++; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, connections: () => connections };
}

function post(port: number, path: string, body: Buffer): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolvePost, reject) => {
    const req = http.request({
      host: '127.0.0.1', port, path, method: 'POST', agent: false, timeout: 5000,
      headers: { 'content-type': 'application/json', 'content-length': body.length },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePost({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Sequential GETs of `paths` over one keep-alive client connection (no
 * `Connection: close`, like wrk); resolves with the statuses.
 */
async function keepAliveGets(port: number, paths: string[]): Promise<number[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const statuses: number[] = [];
  try {
    for (const path of paths) {
      statuses.push(await new Promise<number>((resolveGet, reject) => {
        http.get({ host: '127.0.0.1', port, path, agent, timeout: 2000 }, (res) => {
          res.resume();
          res.on('end', () => resolveGet(res.statusCode ?? 0));
        }).on('error', reject);
      }));
    }
  } finally {
    agent.destroy();
  }
  return statuses;
}

function exitWithin(p: RunningPeer, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.proc.whenExited.then(() => p.proc.exited() ?? '?'),
    new Promise<string>((r) => { timer = setTimeout(() => r('still running'), ms); }),
  ]).finally(() => clearTimeout(timer));
}

describe('startNodePeer', () => {
  const set = new ProcessSet();
  const tmp = mkdtempSync(join(tmpdir(), 'peers-test-'));
  const routesFile = join(tmp, 'routes.json');
  let up: Awaited<ReturnType<typeof startUpstream>>;

  before(async () => {
    up = await startUpstream();
    writeFileSync(routesFile, JSON.stringify([{ path: '/api/v1/users/:id' }, { path: '/static/*' }]));
  });
  after(async () => {
    await set.stopAll(2000);
    up.server.closeAllConnections();
    up.server.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('samplePath fills params and a trailing wildcard', () => {
    assert.equal(samplePath('/api/v1/users/:id/orders/:oid'), '/api/v1/users/1/orders/1');
    assert.equal(samplePath('/static/*'), '/static/x');
  });

  for (const name of PEER_NAMES) {
    describe(name, () => {
      let peer: RunningPeer;
      before(async () => { peer = await startNodePeer(name, up.port, { set, repoDir, scriptDir }); });

      it('passes GET status, body and a custom header through', async () => {
        assert.ok(peer.description.length > 20 && peer.description.includes('128'), peer.description);
        assert.match(peer.proc.output(), new RegExp(`listening ${peer.port}\\n`));
        const r = await httpGet(peer.port, '/created?q=1');
        assert.equal(r.status, 201);
        assert.deepEqual(JSON.parse(r.body), { ok: true, path: '/created?q=1' });
        assert.equal(r.headers['x-upstream-custom'], 'from-origin');
      });

      it('adds X-Forwarded-* and X-Request-Id like Turnpike', async () => {
        const r = await httpGet(peer.port, '/__headers');
        const saw = JSON.parse(r.body) as Record<string, string>;
        assert.equal(saw['x-forwarded-for'], '127.0.0.1');
        assert.equal(saw['x-forwarded-proto'], 'http');
        assert.equal(saw['x-forwarded-host'], `127.0.0.1:${peer.port}`);
        assert.equal(saw.host, `127.0.0.1:${up.port}`);
        assert.match(saw['x-request-id'], /^[0-9a-f]{24}-[0-9a-z]+$/);
        assert.equal(r.headers['x-request-id'], saw['x-request-id']);
      });

      it('echoes a 1 MiB POST byte-identical', async () => {
        const body = randomBytes(1024 * 1024);
        const r = await post(peer.port, '/upload', body);
        assert.equal(r.status, 200);
        assert.equal(r.body.length, body.length);
        assert.ok(r.body.equals(body), 'echoed body differs');
      });

      it('reuses keep-alive upstream connections', async () => {
        const before = up.connections();
        const paths = Array.from({ length: 20 }, (_, i) => `/k${i}`);
        assert.deepEqual(await keepAliveGets(peer.port, paths), paths.map(() => 200));
        assert.ok(up.connections() - before <= 2, `${up.connections() - before} new upstream connections for 20 requests`);
      });

      it('with --routes proxies only the routed patterns, pinned, and stops on SIGTERM', async () => {
        const routed = await startNodePeer(name, up.port, { set, repoDir, scriptDir, routesFile, cpus: '0' });
        assert.match(routed.description, /2 routes/);
        assert.match(readFileSync(`/proc/${routed.proc.pid}/status`, 'utf8'), /Cpus_allowed_list:\s+0\n/);
        const user = await httpGet(routed.port, '/api/v1/users/42');
        assert.equal(user.status, 200);
        assert.equal((JSON.parse(user.body) as { path: string }).path, '/api/v1/users/42');
        const stat = await httpGet(routed.port, '/static/a/b');
        assert.equal(stat.status, 200);
        assert.equal((JSON.parse(stat.body) as { path: string }).path, '/static/a/b');
        assert.equal((await httpGet(routed.port, '/api/v2/other')).status, 404);
        // Alternating routes share one upstream pool: one connection, not one per route.
        const before = up.connections();
        const paths = Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? `/api/v1/users/${i}` : `/static/${i}`));
        assert.deepEqual(await keepAliveGets(routed.port, paths), paths.map(() => 200));
        assert.ok(up.connections() - before <= 1, `${up.connections() - before} new upstream connections`);
        process.kill(routed.proc.pid, 'SIGTERM');
        assert.equal(await exitWithin(routed, 5000), '0');
      });
    });
  }
});
