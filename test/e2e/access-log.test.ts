import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, test } from 'node:test';
import { AccessLog } from '../../src/observability/access-log/access-log.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { configFromYaml, deadPort, nodeRequest, startUpstream, type TestUpstream } from './helpers.js';
import { eventually } from './cache-helpers.js';

const KEY = 'k-7f3a9c1e5b2d';
const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

interface Logged { lines: Array<Record<string, unknown>>; raw: string[] }

async function gateway(yaml: string, random?: () => number): Promise<{ worker: GatewayWorker; log: Logged; access: AccessLog }> {
  const config = configFromYaml(yaml);
  const log: Logged = { lines: [], raw: [] };
  const access = new AccessLog(config, {
    destination: {
      write(chunk: string) {
        for (const line of chunk.split('\n').slice(0, -1)) { log.raw.push(line); log.lines.push(JSON.parse(line) as Record<string, unknown>); }
      },
    },
    random,
  });
  const worker = await startWorker(config, { accessLog: access });
  return { worker, log, access };
}

let up: TestUpstream;
before(async () => {
  up = await startUpstream('up', (req, res, body) => {
    res.writeHead(req.url?.startsWith('/api/fail') ? 503 : 200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
    res.end(`got ${body.length} bytes`);
  });
});
after(() => up.close());

test('one line per request with the documented fields; credentials never appear', async () => {
  const { worker, log } = await gateway(`
log: { access: { fields: [ time, requestId, traceId, clientIp, consumer, method, host, path, query, route, upstream, status, bytesIn, bytesOut, duration, upstreamDuration, cache, retries, userAgent, referer ] } }
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
routes:
  - { name: api, match: { path: /api/* }, upstream: up }
`);
  try {
    const r = await nodeRequest(worker.port, '/api/items?token=tok-secret&page=2&api_key=key-secret', {
      authorization: 'Bearer bearer-secret', cookie: 'session=cookie-secret', 'user-agent': 'probe/1.0', referer: 'https://example.test/',
      'content-type': 'application/json', host: 'gw.example',
    }, 'POST', '{"hello":"world"}');
    assert.equal(r.status, 200);
    await eventually('the line was written', () => log.lines.length === 1);
    const line = log.lines[0];
    assert.deepEqual(Object.keys(line), ['type', 'time', 'requestId', 'clientIp', 'method', 'host', 'path', 'query', 'route', 'upstream', 'status',
      'bytesIn', 'bytesOut', 'duration', 'upstreamDuration', 'retries', 'userAgent', 'referer'], 'empty fields (trace, consumer, cache) are left out');
    assert.equal(line.type, 'access');
    assert.ok(Math.abs(Date.parse(line.time as string) - Date.now()) < 60_000);
    assert.equal(line.requestId, r.headers['x-request-id']);
    assert.equal(line.clientIp, '127.0.0.1');
    assert.deepEqual([line.method, line.host, line.path, line.route, line.upstream, line.status], ['POST', 'gw.example', '/api/items', 'api', up.url, 200]);
    assert.equal(line.query, 'token=[REDACTED]&page=2&api_key=[REDACTED]');
    assert.equal(line.bytesIn, 17);
    assert.equal(line.bytesOut, Buffer.byteLength(r.body));
    assert.ok((line.duration as number) >= (line.upstreamDuration as number) && (line.upstreamDuration as number) >= 0);
    assert.equal(line.retries, 0);
    assert.deepEqual([line.userAgent, line.referer], ['probe/1.0', 'https://example.test/']);
    const all = log.raw.join('');
    for (const secret of ['tok-secret', 'key-secret', 'bearer-secret', 'cookie-secret', 'Bearer']) assert.ok(!all.includes(secret), `${secret} never logged`);
  } finally {
    await worker.drain(500);
  }
});

test('answers the gateway makes itself are logged too: 404, 502 after a failed connect, with the client IP', async () => {
  const dead = await deadPort();
  const { worker, log } = await gateway(`
upstreams:
  gone: { targets: [ { url: "http://127.0.0.1:${dead}" } ] }
routes:
  - { name: gone, match: { path: /gone }, upstream: gone }
`);
  try {
    assert.equal((await nodeRequest(worker.port, '/nowhere', {})).status, 404);
    const bad = await nodeRequest(worker.port, '/gone', {});
    assert.equal(bad.status, 502);
    await eventually('two lines', () => log.lines.length === 2);
    const [missing, failed] = log.lines;
    assert.deepEqual([missing.status, missing.path, missing.clientIp, missing.route, missing.upstream], [404, '/nowhere', '127.0.0.1', undefined, undefined]);
    assert.equal(missing.bytesOut, 0 + Buffer.byteLength((await nodeRequest(worker.port, '/nowhere', {})).body));
    assert.deepEqual([failed.status, failed.route, failed.upstream, failed.clientIp], [502, 'gone', `http://127.0.0.1:${dead}`, '127.0.0.1']);
  } finally {
    await worker.drain(500);
  }
});

test('consumer, cache result and the key-auth query parameter (always redacted)', async () => {
  process.env.ACCESS_LOG_TEST_KEY = KEY;
  const { worker, log } = await gateway(`
log: { redactQuery: [ token ] }
consumers:
  - { id: acme, keys: [ { sha256: "${sha(KEY)}" } ] }
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
policies:
  keys: { key-auth: { header: null, query: apikey, hideCredentials: false } }
  c: { cache: { ttl: 60s } }
routes:
  - { name: cached, match: { path: /api/* }, upstream: up, policies: [ keys, c ] }
`);
  try {
    assert.equal((await nodeRequest(worker.port, `/api/doc?apikey=${KEY}`, {})).status, 200);
    assert.equal((await nodeRequest(worker.port, `/api/doc?apikey=${KEY}`, {})).headers['x-cache'], 'HIT');
    assert.equal((await nodeRequest(worker.port, '/api/doc?apikey=wrong', {})).status, 401);
    await eventually('three lines', () => log.lines.length === 3);
    const [miss, hit, refused] = log.lines;
    assert.deepEqual([miss.consumer, miss.cache, miss.query], ['acme', 'MISS', 'apikey=[REDACTED]']);
    assert.deepEqual([hit.consumer, hit.cache, hit.upstream, hit.status], ['acme', 'HIT', undefined, 200]);
    assert.deepEqual([refused.status, refused.consumer, refused.query], [401, undefined, 'apikey=[REDACTED]']);
    assert.ok(!log.raw.join('').includes(KEY));
  } finally {
    await worker.drain(500);
  }
});

test('successSampleRatio samples successes only; errors are always logged; a field list picks and orders fields', async () => {
  let n = 0;
  const { worker, log } = await gateway(`
log: { access: { successSampleRatio: 0.5, fields: [ status, path ] } }
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
routes:
  - { name: api, match: { path: /api/* }, upstream: up }
`, () => (n++ % 2 === 0 ? 0.25 : 0.75));
  try {
    for (let i = 0; i < 4; i++) await nodeRequest(worker.port, `/api/ok${i}`, {});
    for (let i = 0; i < 3; i++) await nodeRequest(worker.port, `/api/fail${i}`, {});
    await eventually('two successes and three errors', () => log.lines.length === 5);
    assert.deepEqual(log.lines, [
      { type: 'access', status: 200, path: '/api/ok0' }, { type: 'access', status: 200, path: '/api/ok2' },
      { type: 'access', status: 503, path: '/api/fail0' }, { type: 'access', status: 503, path: '/api/fail1' }, { type: 'access', status: 503, path: '/api/fail2' },
    ]);
  } finally {
    await worker.drain(500);
  }
});
