import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { adminTokenSha256 } from '../admin/admin-auth.js';
import { configError } from './config-test-support.js';
import { parseConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'turnpike-admin-token-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('admin.token: no token by default; literal, env: and file: forms keep only the SHA-256', () => {
  assert.equal(parseConfig('', 'gw.yaml', {}).admin.tokenSha256, null);
  const literal = parseConfig('admin: { token: "s3cret-Token_1" }', 'gw.yaml', {});
  assert.equal(literal.admin.tokenSha256, adminTokenSha256('s3cret-Token_1'));
  assert.ok(!JSON.stringify(literal).includes('s3cret-Token_1'), 'the token itself is not in the normalised config');
  const fromEnv = parseConfig('admin: { token: "env:ADMIN_TOKEN" }', 'gw.yaml', { ADMIN_TOKEN: 'from-env' });
  assert.equal(fromEnv.admin.tokenSha256, adminTokenSha256('from-env'));
  const file = join(dir, 'token');
  writeFileSync(file, 'from-file\n');
  assert.equal(parseConfig(`admin: { token: "file:${file}" }`, 'gw.yaml', {}).admin.tokenSha256, adminTokenSha256('from-file'));
});

test('TURNPIKE_ADMIN_TOKEN sets the token and wins over admin.token', () => {
  const config = parseConfig('admin: { token: "from-file" }', 'gw.yaml', { TURNPIKE_ADMIN_TOKEN: 'from-env.var' });
  assert.equal(config.admin.tokenSha256, adminTokenSha256('from-env.var'));
  assert.equal(parseConfig('', 'gw.yaml', { TURNPIKE_ADMIN_TOKEN: 'abc' }).admin.tokenSha256, adminTokenSha256('abc'));
});

test('a token that is unreadable or not bearer syntax is reported at admin.token, without its value', () => {
  const message = (yaml: string, env: NodeJS.ProcessEnv = {}): string[] => configError(() => parseConfig(yaml, 'gw.yaml', env)).message.split('\n').slice(1);
  assert.deepEqual(message('admin:\n  token: "env:NOPE"\n'), ['gw.yaml:2:10: admin.token: environment variable NOPE is not set']);
  assert.deepEqual(message('admin:\n  token: "has space"\n'),
    ['gw.yaml:2:10: admin.token: must be a bearer token (letters, digits, -._~+/ and trailing =)']);
  assert.deepEqual(message('admin:\n  token: ""\n').length, 1);
  const env = configError(() => parseConfig('', 'gw.yaml', { TURNPIKE_ADMIN_TOKEN: 'bad token!' }));
  assert.equal(env.issues.length, 1);
  assert.equal(env.issues[0].path, 'TURNPIKE_ADMIN_TOKEN');
  assert.ok(!env.message.includes('bad token!'), env.message);
});
