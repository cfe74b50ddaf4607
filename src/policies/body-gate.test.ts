import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../ingress/request-context.js';
import { BodyGate, ERR_RESPONSE_TOO_LARGE, Growth, runWholeBody } from './body-gate.js';
import type { BufferedResponse, PolicyInstance } from './types.js';

const ctx = new RequestContext(null as never);
const head = { status: 200, headers: ['content-type', 'application/json'] };

/** A policy taking bodies up to `limit` (see responseBodyLimit); records what it saw. */
function policy(name: string, limit: number | undefined, log: string[]): PolicyInstance {
  const p: PolicyInstance = {
    name,
    responseBody: (_c, res) => { log.push(`${name}:${res.body.length}`); return undefined; },
  };
  if (limit !== undefined) {
    p.responseBodyLimit = () => limit;
    p.responseBodyPassed = (_c, bytes) => { log.push(`${name} passed at ${bytes}`); };
  }
  return p;
}

test('policies that decline from the head are left out; all declining means no gate', () => {
  const log: string[] = [];
  assert.equal(BodyGate.open([policy('a', 0, log), policy('b', 0, log)], ctx, head, -1, 1000), null);
  const g = BodyGate.open([policy('a', 0, log), policy('b', 100, log), policy('c', undefined, log)], ctx, head, -1, 1000)!;
  assert.deepEqual(g.takers.map((p) => p.name), ['b', 'c']);
  assert.equal(g.bound, 100);
});

test('a declared length over a positive limit passes that policy at once; the route limit bounds every limit', () => {
  const log: string[] = [];
  const g = BodyGate.open([policy('a', 100, log), policy('b', 5000, log)], ctx, head, 500, 1000)!;
  assert.deepEqual(g.takers.map((p) => p.name), ['b']);
  assert.equal(g.bound, 1000, 'b passes above the route maxBodySize');
  assert.deepEqual(log, ['a passed at 500']);
  assert.equal(BodyGate.open([policy('a', 100, log)], ctx, head, 500, 0), null, 'maxBodySize 0: unlimited');
});

test('a growing body leaves out the policies it outgrows, then streams (Pass) or fails where a policy must have it', () => {
  const log: string[] = [];
  const g = BodyGate.open([policy('a', 100, log), policy('b', 300, log)], ctx, head, -1, 1000)!;
  assert.equal(g.grow(ctx, 150), Growth.Buffer);
  assert.deepEqual([g.takers.map((p) => p.name), g.bound], [['b'], 300]);
  assert.equal(g.grow(ctx, 301), Growth.Pass);
  assert.deepEqual(log, ['a passed at 150', 'b passed at 301']);
  const f = BodyGate.open([policy('a', 100, log), policy('c', undefined, log)], ctx, head, -1, 1000)!;
  assert.equal(f.grow(ctx, 200), Growth.Buffer);
  assert.equal(f.grow(ctx, 1001), Growth.Fail, 'a policy without a limit fails above maxBodySize, as before');
  const n = BodyGate.open([policy('n', -50, log)], ctx, head, -1, 1000)!;
  assert.equal(n.grow(ctx, 51), Growth.Fail, 'a negative limit fails');
});

test('runWholeBody: gate, then the body phase of the policies left', () => {
  const log: string[] = [];
  const res: BufferedResponse = { ...head, headers: head.headers.slice(), body: Buffer.alloc(200) };
  assert.equal(runWholeBody([policy('a', 100, log), policy('b', 0, log), policy('c', undefined, log)], ctx, res, 0), undefined);
  assert.deepEqual(log, ['a passed at 200', 'c:200']);
  assert.equal(runWholeBody([policy('n', -100, log)], ctx, res, 0), ERR_RESPONSE_TOO_LARGE);
});
