import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { enableTcpMigrateReq } from './tcp-migrate.js';

test('enableTcpMigrateReq switches a 0 to 1, leaves a 1 alone, and reports a missing file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-sysctl-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'tcp_migrate_req');
  writeFileSync(path, '0\n');
  assert.deepEqual(enableTcpMigrateReq(path), { enabled: true, changed: true });
  assert.equal(readFileSync(path, 'utf8').trim(), '1');
  assert.deepEqual(enableTcpMigrateReq(path), { enabled: true, changed: false });
  const missing = enableTcpMigrateReq(join(dir, 'absent', 'tcp_migrate_req'));
  assert.equal(missing.enabled, false);
  assert.match(missing.reason ?? '', /cannot read/);
});
