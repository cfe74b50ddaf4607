import { test } from 'node:test';
import assert from 'node:assert/strict';
import { areaOf, summariseProfile, type CpuProfile } from './cpu-profile-summary.js';

const SRC = 'file:///work/main/dist/src/ingress/request-handler.js';
const UNDICI = 'file:///work/main/node_modules/undici/lib/dispatcher/client-h1.js';

// (root) → handle (ours) → dispatch (undici); plus idle and GC samples.
const PROFILE: CpuProfile = {
  nodes: [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 4, 5] },
    { id: 2, callFrame: { functionName: 'handle', url: SRC, lineNumber: 9 }, children: [3] },
    { id: 3, callFrame: { functionName: 'dispatch', url: UNDICI, lineNumber: 99 } },
    { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
    { id: 5, callFrame: { functionName: '(garbage collector)', url: '', lineNumber: -1 } },
  ],
  // Each sample stands for the delta that follows it (µs).
  samples: [2, 3, 3, 4, 5],
  timeDeltas: [0, 1000, 1000, 1000, 2000, 1000],
  startTime: 0,
  endTime: 6000,
};

test('areaOf classifies our code, undici and V8 pseudo-frames', () => {
  assert.equal(areaOf(SRC, 'handle'), 'turnpike src/');
  assert.equal(areaOf(UNDICI, 'dispatch'), 'undici');
  assert.equal(areaOf('', '(garbage collector)'), 'GC');
  assert.equal(areaOf('node:net', 'onStreamRead'), 'node core / native');
});

test('summariseProfile splits self and inclusive time and drops idle', () => {
  const s = summariseProfile(PROFILE);
  assert.equal(s.totalMs, 6);
  assert.equal(s.busyMs, 4);
  const handle = s.ours.find((h) => h.key.startsWith('handle'))!;
  assert.equal(handle.key, 'handle (src/ingress/request-handler.js:10)');
  assert.deepEqual([handle.selfMs, handle.totalMs, handle.totalPct], [1, 3, 75]);
  const top = s.functions[0];
  assert.deepEqual([top.key.split(' ')[0], top.selfMs, top.selfPct], ['dispatch', 2, 50]);
  assert.deepEqual(s.areas.map((a) => [a.key, a.selfMs]), [['undici', 2], ['turnpike src/', 1], ['GC', 1]]);
  assert.deepEqual(s.owners.map((a) => [a.key, a.selfMs]), [['undici', 2], ['turnpike src/', 1], ['GC', 1]]);
});

test('summariseProfile charges node-core work to the package that called it', () => {
  const p: CpuProfile = {
    nodes: [
      { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2] },
      { id: 2, callFrame: { functionName: 'writeH1', url: UNDICI, lineNumber: 1 }, children: [3] },
      { id: 3, callFrame: { functionName: 'writeLatin1String', url: '', lineNumber: -1 } },
    ],
    samples: [3, 3, 3],
    timeDeltas: [0, 1000, 1000],
    startTime: 0,
    endTime: 2000,
  };
  const s = summariseProfile(p);
  assert.deepEqual(s.areas.map((a) => a.key), ['node core / native']);
  assert.deepEqual(s.owners.map((a) => [a.key, a.selfMs]), [['undici', 2]]);
});
