import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseConfig } from '../../config/load.js';
import { keyDigest } from './consumer-keys.js';
import { consumerDirectory, consumerOf, consumersListing } from './directory.js';

const sha = (key: string): string => createHash('sha256').update(key).digest('hex');

const CONFIG = parseConfig(`consumers:
  - { id: acme, username: acme-corp, groups: [ partners ], keys: [ { sha256: "${sha('acme-key')}", name: ci }, { env: ACME_SECOND } ] }
  - { id: bob, groups: [ internal ], keys: [ { env: BOB_API_KEY } ] }
  - { id: anon }
`, 'gw.yaml', { BOB_API_KEY: 'bob-key', ACME_SECOND: 'acme-second-key' });

test('byId and byKeyDigest find configured consumers; an unknown id or key finds nothing', () => {
  const d = consumerDirectory(CONFIG);
  assert.equal(consumerDirectory(CONFIG), d, 'one directory per config, shared by every policy');
  assert.deepEqual(d.ids, ['acme', 'bob', 'anon']);
  assert.equal(d.size, 3);
  assert.deepEqual(d.byId('acme'), { id: 'acme', username: 'acme-corp', groups: ['partners'], keyNames: ['ci', 'key-1'] });
  assert.deepEqual(d.byId('anon'), { id: 'anon', username: '', groups: [], keyNames: [] });
  assert.equal(d.byId('nobody'), undefined);
  assert.equal(d.byId('__proto__'), undefined);
  assert.deepEqual(d.byKeyDigest(keyDigest('acme-key')), {
    id: 'acme', username: 'acme-corp', groups: ['partners'], credential: { kind: 'api-key', id: 'ci' }, claims: null,
  });
  assert.deepEqual(d.byKeyDigest(keyDigest('acme-second-key'))?.credential, { kind: 'api-key', id: 'key-1' });
  assert.equal(d.byKeyDigest(keyDigest('bob-key'))?.id, 'bob');
  assert.equal(d.byKeyDigest(keyDigest('bob-key ')), undefined);
  assert.equal(d.byKeyDigest(keyDigest('')), undefined);
  // The same consumer object for every request with that key: policies share it, so it is frozen.
  const c = d.byKeyDigest(keyDigest('acme-key'))!;
  assert.equal(d.byKeyDigest(keyDigest('acme-key')), c);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.groups) && Object.isFrozen(c.credential));
  assert.ok(Object.isFrozen(d.byId('acme')));
});

test('consumerOf builds a consumer of a configured record for other identity policies', () => {
  const record = consumerDirectory(CONFIG).byId('bob')!;
  const c = consumerOf(record, { kind: 'jwt', id: 'kid-1' }, { sub: 'bob' });
  assert.deepEqual(c, { id: 'bob', username: '', groups: ['internal'], credential: { kind: 'jwt', id: 'kid-1' }, claims: { sub: 'bob' } });
  assert.equal(consumerOf(record, { kind: 'anonymous', id: '' }, null, true).anonymous, true);
});

test('the admin listing shows ids, usernames, groups and key names, never a key or its hash', () => {
  const listing = consumersListing(CONFIG);
  assert.deepEqual(listing, {
    consumers: [
      { id: 'acme', username: 'acme-corp', groups: ['partners'], keys: [{ name: 'ci', source: 'sha256' }, { name: 'key-1', source: 'env' }] },
      { id: 'bob', username: '', groups: ['internal'], keys: [{ name: 'key-0', source: 'env' }] },
      { id: 'anon', username: '', groups: [], keys: [] },
    ],
  });
  const text = JSON.stringify(listing);
  for (const secret of ['acme-key', 'bob-key', 'acme-second-key']) {
    assert.ok(!text.includes(secret));
    assert.ok(!text.includes(sha(secret)));
    assert.ok(!text.includes(keyDigest(secret)));
  }
});
