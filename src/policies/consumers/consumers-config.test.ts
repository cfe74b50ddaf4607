import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../config/load.js';
import { configError } from '../../config/config-test-support.js';

const sha = (key: string): string => createHash('sha256').update(key).digest('hex');
const KEY_A = 'acme-key-0123456789abcdef';
const KEY_BOB = 'bob-key-fedcba9876543210';

/** The reported issues as `file:line:col: path: message` lines. */
function errorsOf(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  return configError(() => parseConfig(yaml, 'gw.yaml', env)).message.split('\n').slice(1);
}

test('the contract example loads: keys become lower-case SHA-256 hex, defaults filled, the key itself is nowhere', () => {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-consumers-'));
  try {
    const file = join(dir, 'carol.key');
    writeFileSync(file, 'carol-key-from-a-file\n');
    const config = parseConfig(`consumers:
  - { id: acme, username: acme-corp, groups: [ partners ], keys: [ { sha256: "${sha(KEY_A).toUpperCase()}", name: ci } ] }
  - { id: bob, groups: [ internal ], keys: [ { env: BOB_API_KEY } ] }
  - id: carol
    keys:
      - { file: "${file}", name: laptop }
      - { sha256: "${sha('carol-second')}" }
  - { id: "auth0|1234" }
`, 'gw.yaml', { BOB_API_KEY: KEY_BOB });
    assert.deepEqual(config.consumers, [
      { id: 'acme', username: 'acme-corp', groups: ['partners'], keys: [{ name: 'ci', sha256: sha(KEY_A), source: 'sha256' }] },
      { id: 'bob', username: '', groups: ['internal'], keys: [{ name: 'key-0', sha256: sha(KEY_BOB), source: 'env' }] },
      { id: 'carol', username: '', groups: [], keys: [
        { name: 'laptop', sha256: sha('carol-key-from-a-file'), source: 'file' },
        { name: 'key-1', sha256: sha('carol-second'), source: 'sha256' },
      ] },
      { id: 'auth0|1234', username: '', groups: [], keys: [] },
    ]);
    const all = JSON.stringify(config);
    for (const key of [KEY_BOB, 'carol-key-from-a-file']) assert.ok(!all.includes(key), 'the normalised config (sent to workers) holds no key');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('no consumers section (or an empty one) is no consumers', () => {
  assert.deepEqual(parseConfig('routes: []\n', 'gw.yaml', {}).consumers, []);
  assert.deepEqual(parseConfig('consumers:\n', 'gw.yaml', {}).consumers, []);
});

test('ids unique and not reserved; key sources one each and readable; messages never show a key', () => {
  const errors = errorsOf(`consumers:
  - { id: acme, keys: [ { sha256: "${sha(KEY_A)}" } ] }
  - { id: acme }
  - { id: "(other)" }
  - id: bob
    keys:
      - { name: ci }
      - { sha256: "${sha('x')}", env: BOB_API_KEY }
      - { env: MISSING_KEY }
      - { env: EMPTY_KEY }
      - { file: /nonexistent/turnpike/key }
      - { env: SPACED_KEY }
      - { env: COMMA_KEY }
      - { sha256: "abc" }
      - { env: "not a name" }
`, { BOB_API_KEY: KEY_BOB, EMPTY_KEY: '', SPACED_KEY: 'abc def\n', COMMA_KEY: 'a,b' });
  assert.deepEqual(errors, [
    'gw.yaml:3:11: consumers[1].id: duplicate consumer id "acme" (also consumers[0])',
    'gw.yaml:4:11: consumers[2].id: "(other)" is reserved (the metrics label of consumers over the cap)',
    'gw.yaml:7:9: consumers[3].keys[0]: needs one key source: sha256, env or file',
    'gw.yaml:8:92: consumers[3].keys[1].env: give one key source, not sha256 and env',
    'gw.yaml:9:16: consumers[3].keys[2].env: environment variable MISSING_KEY is not set',
    'gw.yaml:10:16: consumers[3].keys[3].env: environment variable EMPTY_KEY is empty',
    'gw.yaml:11:17: consumers[3].keys[4].file: cannot read secret file /nonexistent/turnpike/key: ENOENT',
    'gw.yaml:12:16: consumers[3].keys[5].env: the key must be visible ASCII without spaces or commas (check for a stray newline or space)',
    'gw.yaml:13:16: consumers[3].keys[6].env: the key must be visible ASCII without spaces or commas (check for a stray newline or space)',
    `gw.yaml:14:19: consumers[3].keys[7].sha256: must be the key's SHA-256 as 64 hex digits (printf %s "$KEY" | sha256sum)`,
    'gw.yaml:15:16: consumers[3].keys[8].env: must be an environment variable name',
  ]);
  assert.ok(!errors.join('\n').includes('abc def'));
});

test('one key names one consumer: the same key twice (any sources) is an error at the second', () => {
  assert.deepEqual(errorsOf(`consumers:
  - { id: acme, keys: [ { env: ACME_KEY, name: ci } ] }
  - id: bob
    keys:
      - { sha256: "${sha(KEY_A)}" }
      - { env: BOB_KEY }
      - { env: BOB_KEY_AGAIN, name: key-1 }
`, { ACME_KEY: KEY_A, BOB_KEY: KEY_BOB, BOB_KEY_AGAIN: KEY_BOB }), [
    'gw.yaml:5:9: consumers[1].keys[0]: the same key as consumers[0].keys[0] (a key must name one consumer)',
    'gw.yaml:7:9: consumers[1].keys[2]: the same key as consumers[1].keys[1] (a key must name one consumer)',
    'gw.yaml:7:37: consumers[1].keys[2].name: duplicate key name "key-1" (also consumers[1].keys[1])',
  ]);
});

test('usernames, groups and ids must be header-safe; unknown fields are named', () => {
  assert.deepEqual(errorsOf(`consumers:
  - { id: "has space", username: " padded", groups: [ "a,b", ok, ok ] }
  - { id: x, username: "Acme Corp", groups: [ "/admins", "org:team" ], secret: 1 }
  - { username: nobody }
`), [
    'gw.yaml:2:11: consumers[0].id: must be 1-128 visible ASCII characters (no spaces)',
    'gw.yaml:2:34: consumers[0].username: must be 1-256 visible ASCII characters (inner spaces allowed)',
    'gw.yaml:2:53: consumers[0].groups: lists the same group twice',
    'gw.yaml:2:55: consumers[0].groups[0]: must be 1-128 visible ASCII characters without spaces or commas',
    'gw.yaml:3:72: consumers[1].secret: unknown field (expected one of: id, username, groups, keys)',
    'gw.yaml:4:5: consumers[2].id: is required',
  ]);
});
