import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nodeAcceptsFlag, workerExecArgv } from './worker-exec-argv.js';

const MB = 1024 * 1024;

test('workers get --initial-old-space-size from server.workerHeap, after the primary\'s own flags', () => {
  assert.deepEqual(workerExecArgv(['--enable-source-maps'], 64 * MB), ['--enable-source-maps', '--initial-old-space-size=64']);
  assert.deepEqual(workerExecArgv([], 1.5 * MB), ['--initial-old-space-size=2']);
});

test('0 keeps V8\'s default', () => {
  assert.deepEqual(workerExecArgv(['--cpu-prof'], 0), ['--cpu-prof']);
});

test('a heap flag the operator already gave wins (argv or NODE_OPTIONS, dashes or underscores)', () => {
  assert.deepEqual(workerExecArgv(['--initial-old-space-size=16'], 64 * MB), ['--initial-old-space-size=16']);
  assert.deepEqual(workerExecArgv(['--initial_old_space_size=16'], 64 * MB), ['--initial_old_space_size=16']);
  assert.deepEqual(workerExecArgv([], 64 * MB, '--initial-old-space-size=8'), []);
});

test('a flag this node rejects is left out rather than stopping every worker', () => {
  assert.deepEqual(workerExecArgv(['--x'], 64 * MB, '', () => false), ['--x']);
  assert.equal(nodeAcceptsFlag('--initial-old-space-size=64'), true);
  assert.equal(nodeAcceptsFlag('--no-such-v8-flag-turnpike'), false);
});
