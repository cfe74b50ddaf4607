import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRepoDir, parseMicroArgs } from './micro-bench.js';

test('parseMicroArgs: defaults, "--x v" and "--x=v" forms', () => {
  assert.deepEqual(parseMicroArgs([]), { minMs: 300, rounds: 5, out: 'results/micro-bench.md', filter: '' });
  assert.deepEqual(parseMicroArgs(['--min-ms', '200', '--rounds=3', '--out', '/tmp/x.md', '--filter=router']),
    { minMs: 200, rounds: 3, out: '/tmp/x.md', filter: 'router' });
  assert.equal(parseMicroArgs(['--out', '']).out, '');
});

test('parseMicroArgs: rejects unknown options, missing values and bad numbers', () => {
  assert.throws(() => parseMicroArgs(['--min']), /needs a value/);
  assert.throws(() => parseMicroArgs(['--speed', '1']), /unknown option --speed/);
  assert.throws(() => parseMicroArgs(['--min-ms', '0']), /positive/);
  assert.throws(() => parseMicroArgs(['--min-ms', 'abc']), /positive/);
  assert.throws(() => parseMicroArgs(['--rounds', '2.5']), /integer/);
});

test('findRepoDir: nearest ancestor whose package.json is named turnpike', () => {
  const root = mkdtempSync(join(tmpdir(), 'micro-repo-'));
  try {
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'turnpike' }));
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    writeFileSync(join(root, 'a', 'package.json'), JSON.stringify({ name: 'other' }));
    assert.equal(findRepoDir(join(root, 'a', 'b')), root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
