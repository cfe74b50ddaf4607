import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { parseConfig } from '../config/load.js';
import { configCachePath, readConfigCache, writeConfigCache } from './config-cache.js';

test('the cache is the YAML behind a header line; it reads back and is itself a valid config', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'nested', 'cache.yaml');
  const yaml = 'server: { port: 8081 }\n';
  const header = { source: 'etcd://127.0.0.1:2379/p', key: '/p/config', revision: 42, written: new Date(0).toISOString() };
  writeConfigCache(path, header, yaml);
  const back = readConfigCache(path);
  assert.deepEqual(back?.header, header);
  assert.equal(back?.text.split('\n').slice(1).join('\n'), yaml);
  assert.equal(parseConfig(back!.text, path, {}).server.port, 8081);
  assert.deepEqual(readdirSync(join(dir, 'nested')), ['cache.yaml'], 'no temp file left behind');
  // Rewritten in place (rename over the old file).
  writeConfigCache(path, { ...header, revision: 43 }, yaml);
  assert.equal(readConfigCache(path)?.header.revision, 43);
});

test('a missing file or one without the header is no cache', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-cache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.equal(readConfigCache(join(dir, 'absent.yaml')), null);
  const plain = join(dir, 'plain.yaml');
  writeFileSync(plain, 'server: {}\n');
  assert.equal(readConfigCache(plain), null);
  writeFileSync(plain, '# turnpike config cache: {"source":1}\n');
  assert.equal(readConfigCache(plain), null);
});

test('the cache path: TURNPIKE_CONFIG_CACHE, else .turnpike/config-cache.yaml under the working directory', () => {
  assert.equal(configCachePath({}), resolve('.turnpike/config-cache.yaml'));
  assert.equal(configCachePath({ TURNPIKE_CONFIG_CACHE: '/var/lib/turnpike/c.yaml' }), '/var/lib/turnpike/c.yaml');
});
