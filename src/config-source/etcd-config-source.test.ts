// The etcd config source on its own, against a real etcd, with the primary's
// part played by the test: its watch (no periodic re-read) must survive losing
// etcd while the revision it would resume from is compacted. The source talks
// to etcd through a TCP relay the test can cut, so the compaction surely
// happens while the watch is away.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { pino } from 'pino';
import { parseConfig } from '../config/load.js';
import { startEtcd, type TestEtcd } from '../../test/fixtures/etcd-server.js';
import { parseEtcdUrl } from '../lib/etcd-endpoints.js';
import { etcdConfigSource } from './etcd-config-source.js';
import type { ConfigSource } from './config-source.js';

let etcd: TestEtcd;
let dir: string;
let source: ConfigSource | null = null;
let relay: Server;
let relayOpen = true;
const relayed = new Set<Socket>();
const logLines: Array<{ msg: string }> = [];

before(async () => {
  etcd = await startEtcd();
  dir = mkdtempSync(join(tmpdir(), 'turnpike-etcd-source-'));
  relay = createServer((client) => {
    if (!relayOpen) {
      client.destroy();
      return;
    }
    const upstream = createConnection(etcd.clientPort, '127.0.0.1');
    for (const sock of [client, upstream]) {
      relayed.add(sock);
      sock.on('close', () => relayed.delete(sock));
      sock.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
});

/** Cuts every relayed connection and refuses new ones (etcd is "down" for the source only). */
function cutRelay(): void {
  relayOpen = false;
  for (const sock of relayed) sock.destroy();
}

after(async () => {
  await source?.close();
  relay.close();
  for (const sock of relayed) sock.destroy();
  await etcd.close();
  rmSync(dir, { recursive: true, force: true });
});

const doc = (n: number): string => `routes:\n  - { name: r${n}, match: { path: /v/${n} }, upstream: u }\nupstreams:\n  u: { targets: [ { url: "http://127.0.0.1:9" } ] }\n`;

async function put(text: string): Promise<number> {
  const c = new Etcd3({ hosts: etcd.endpoint });
  try {
    return Number((await c.put('/t/config').value(text).exec()).header.revision);
  } finally {
    c.close();
  }
}

async function eventually(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('the watch applies new revisions and recovers from a compacted resume revision after losing etcd', async () => {
  await put(doc(1));
  const s = etcdConfigSource({
    location: parseEtcdUrl(`etcd://127.0.0.1:${(relay.address() as { port: number }).port}/t`),
    parse: (text, name) => parseConfig(text, name, {}),
    cachePath: join(dir, 'cache.yaml'),
    resyncMs: 3_600_000, // only the watch may deliver revisions here
  });
  source = s;
  const first = await s.initial();
  assert.equal(first.config.routes[0].name, 'r1');
  assert.match(first.config.source, /^etcd:\/\/127\.0\.0\.1:\d+\/t\/config@rev\d+$/);
  const logger = pino({ level: 'info' }, new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') logLines.push(JSON.parse(l) as { msg: string });
      done();
    },
  }));
  // The primary's part: load the candidate and report it applied.
  s.watch(function changed() {
    void s.next(false).then((c) => { if (c !== null) s.settled(c, true); }, () => {});
  }, logger);

  const rev2 = await put(doc(2));
  await eventually('revision 2 applied', () => s.details().revision === rev2);

  cutRelay();
  await eventually('the source sees etcd gone', () => s.details().connected === false);
  const c = new Etcd3({ hosts: etcd.endpoint });
  try {
    await put(doc(3));
    const rev4 = await put(doc(4));
    await c.kv.compact({ revision: String(rev4), physical: true });
  } finally {
    c.close();
  }
  const rev5 = await put(doc(5));
  relayOpen = true;
  await eventually('revision 5 applied through the watch', () => s.details().revision === rev5);
  assert.equal(s.details().connected, true);
  const msgs = logLines.map((l) => l.msg);
  assert.ok(msgs.includes('lost etcd; serving the last good config and reconnecting'), JSON.stringify(msgs));
  // etcd may first confirm the resumed watch, then cancel it as compacted.
  await eventually('the compacted resume ended the watch', () => logLines.some((l) => l.msg === 'the etcd watch ended; re-establishing it'));
  // Re-established from a read: later revisions still arrive (no periodic re-read here).
  const rev6 = await put(doc(6));
  await eventually('revision 6 applied through the new watch', () => s.details().revision === rev6);
  assert.ok(msgs.includes('connected to etcd'), JSON.stringify(msgs));
});

test('at boot, an invalid revision in etcd falls back to the cache and is shown as rejected', async (t) => {
  const location = parseEtcdUrl(`etcd://127.0.0.1:${etcd.clientPort}/boot`);
  const cachePath = join(dir, 'boot-cache.yaml');
  const make = () => etcdConfigSource({ location, parse: (text, name) => parseConfig(text, name, {}), cachePath, resyncMs: 3_600_000 });
  const c = new Etcd3({ hosts: etcd.endpoint });
  t.after(() => c.close());
  const good = Number((await c.put('/boot/config').value(doc(1)).exec()).header.revision);
  const first = make();
  assert.equal((await first.initial()).revision, good, 'a valid revision is applied and cached');
  await first.close();
  const bad = Number((await c.put('/boot/config').value(doc(2).replace('upstream: u', 'upstream: nope')).exec()).header.revision);
  const second = make();
  t.after(() => second.close());
  const got = await second.initial();
  assert.equal(got.revision, good);
  assert.equal(got.name, cachePath);
  assert.equal(got.config.routes[0].name, 'r1');
  const d = second.details();
  assert.equal(d.fromCache, true);
  assert.equal(d.rejectedRevision, bad);
  assert.match(String(d.rejectedReason), new RegExp(`/boot/config@rev${bad}:2:\\d+: routes\\[0\\]\\.upstream: `));
});
