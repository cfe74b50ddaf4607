import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/index.js';
import { configError } from '../../config/config-test-support.js';
import { cacheSettings } from './settings.js';
import type { CacheConfig } from './schema.js';

const HEAD = `upstreams:
  up: { targets: [ { url: "http://127.0.0.1:3001" } ] }
routes:
  - { match: { path: /a/* }, upstream: up, policies: [ catalog-cache ] }
policies:
`; // five lines: the first policy is on line 6

function issues(policies: string): string[] {
  const err = configError(() => parseConfig(HEAD + policies, 'gw.yaml', {}));
  for (const i of err.issues) assert.equal(i.file, 'gw.yaml');
  return err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
}

test('the cache policy of the issue contract loads as written, and compiles to its settings', () => {
  const c = parseConfig(`${HEAD}  catalog-cache:
    cache:
      store: memory                  # memory | redis (shared by workers and instances, REDIS_URL)
      maxSize: 256mb                 # memory store: LRU by bytes, per worker
      ttl: 60s                       # when the upstream says nothing
      methods: [ GET, HEAD ]
      key: [ method, host, path, query, header:accept-language ]
      staleWhileRevalidate: 30s
      staleIfError: 5m
`, 'gw.yaml', {});
  assert.equal(c.policies['catalog-cache'].kind, 'cache');
  const s = cacheSettings('catalog-cache', c.policies['catalog-cache'].config as CacheConfig);
  assert.equal(s.store, 'memory');
  assert.equal(s.maxSize, 256 * 1024 * 1024);
  assert.equal(s.maxEntry, 1024 * 1024);
  assert.equal(s.ttlMs, 60_000);
  assert.equal(s.swrMs, 30_000);
  assert.equal(s.sieMs, 300_000);
  assert.deepEqual(s.key, ['method', 'host', 'path', 'query', 'header:accept-language']);
  assert.equal(s.get && s.head, true);
  assert.deepEqual([200, 203, 204, 300, 301, 308].map((x) => s.ttlStatus[x]), [true, true, true, true, true, true]);
  assert.deepEqual([404, 410, 500].map((x) => s.ttlStatus[x]), [false, false, false]);
  assert.equal(s.namespace, 'catalog-cache');
  assert.equal(s.setCookie, 'skip');
  assert.equal(s.cacheAuthorized, false);
});

test('defaults: an empty cache block is a valid memory cache', () => {
  const c = parseConfig(`${HEAD}  catalog-cache: { cache: {} }\n`, 'gw.yaml', {});
  const s = cacheSettings('catalog-cache', c.policies['catalog-cache'].config as CacheConfig);
  assert.deepEqual([s.store, s.maxSize, s.maxEntry, s.ttlMs, s.swrMs, s.sieMs], ['memory', 64 * 1024 * 1024, 1024 * 1024, 60_000, 0, 0]);
  assert.deepEqual(s.key, ['method', 'host', 'path', 'query']);
});

test('schema errors name the line and field', () => {
  assert.deepEqual(issues(`  catalog-cache:
    cache:
      store: disk
      methods: [ GET, POST ]
      key: [ method, cookie, "header:bad name" ]
      ttl: soon
      setCookie: keep
      ttlStatuses: [ 200, 500 ]
      extra: 1
`), [
    '8:14 policies.catalog-cache.cache.store: must be memory or redis',
    '9:23 policies.catalog-cache.cache.methods[1]: must be GET or HEAD',
    '10:22 policies.catalog-cache.cache.key[1]: must be method, host, path, query, consumer or header:<name>',
    '10:30 policies.catalog-cache.cache.key[2]: must be method, host, path, query, consumer or header:<name>',
    '11:12 policies.catalog-cache.cache.ttl: must be a duration like 250ms, 5s, 1m, 1h or integer milliseconds',
    '12:18 policies.catalog-cache.cache.setCookie: must be skip, strip or store',
    '13:27 policies.catalog-cache.cache.ttlStatuses[1]: must be one of 200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501 (the heuristically cacheable statuses)',
    '14:7 policies.catalog-cache.cache.extra: unknown field (expected one of: store, maxSize, maxEntry, ttl, ttlStatuses, methods, key, staleWhileRevalidate, staleIfError, cacheAuthorized, setCookie, ignoreRequestCacheControl, namespace)',
  ]);
});

test('checks: maxEntry within maxSize, HEAD needs GET, key parts once', () => {
  assert.deepEqual(issues(`  catalog-cache:
    cache:
      maxSize: 1mb
      maxEntry: 2mb
      methods: [ HEAD ]
      key: [ path, header:Accept, header:accept ]
`), [
    '9:17 policies.catalog-cache.cache.maxEntry: must not exceed maxSize',
    '10:16 policies.catalog-cache.cache.methods: HEAD is answered from GET entries: list GET too',
    '11:35 policies.catalog-cache.cache.key[2]: duplicate key part (same as key[1])',
  ]);
  assert.deepEqual(issues(`  catalog-cache: { cache: { maxSize: 0, maxEntry: 0 } }\n`), [
    '6:38 policies.catalog-cache.cache.maxSize: must be more than 0',
    '6:51 policies.catalog-cache.cache.maxEntry: must be more than 0',
  ]);
});
