import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import { RequestContext } from '../ingress/request-context.js';
import { compileChain } from './chain.js';
import { LocalResponse } from './local-response.js';
import { runAccess, runLog, runProblemHead, runRequestBody, runResponseBody, runResponseHead } from './run-phases.js';
import type { BufferedResponse, PolicyInstance, ResponseHead } from './types.js';

const DENY = new GatewayError(ErrorCodes.RATE_LIMITED);

function ctx(): RequestContext {
  // The phases under test touch only context fields, never the uWS response.
  return new RequestContext(null as never);
}

function mark(name: string, log: string[]): PolicyInstance {
  return { name, access: (c) => { log.push(name); c.addHeader('x-seen', name); return undefined; } };
}

test('compileChain keeps order per phase and leaves unused phases null', () => {
  const a: PolicyInstance = { name: 'a', access: () => undefined };
  const b: PolicyInstance = { name: 'b', responseHead: () => undefined, onLog: () => undefined };
  const c: PolicyInstance = { name: 'c', access: () => undefined, requestBody: () => undefined };
  const chain = compileChain([a, b, c]);
  assert.deepEqual(chain.names, ['a', 'b', 'c']);
  assert.deepEqual(chain.access!.map((i) => i.name), ['a', 'c']);
  assert.deepEqual(chain.requestBody!.map((i) => i.name), ['c']);
  assert.deepEqual(chain.responseHead!.map((i) => i.name), ['b']);
  assert.equal(chain.responseBody, null);
  assert.deepEqual(chain.onLog!.map((i) => i.name), ['b']);
});

test('access: synchronous verdicts run in order and stop at the first answer', () => {
  const log: string[] = [];
  const stop: PolicyInstance = { name: 'stop', access: () => DENY };
  const c = ctx();
  assert.equal(runAccess([mark('one', log), stop, mark('never', log)], c), DENY);
  assert.deepEqual(log, ['one']);
  assert.equal(runAccess([mark('x', log), mark('y', log)], ctx()), undefined);
  assert.deepEqual(log, ['one', 'x', 'y']);
});

test('access: a Promise makes the rest asynchronous, in order, and local responses pass through', async () => {
  const log: string[] = [];
  const later: PolicyInstance = { name: 'later', access: (c) => new Promise((r) => setTimeout(() => { c.setHeader('x-async', '1'); log.push('later'); r(undefined); }, 5)) };
  const local = new LocalResponse(204, ['x-local', '1']);
  const answer: PolicyInstance = { name: 'answer', access: () => Promise.resolve(local) };
  const c = ctx();
  const p = runAccess([mark('first', log), later, mark('after', log), answer, mark('never', log)], c);
  assert.ok(p instanceof Promise);
  assert.deepEqual(log, ['first'], 'nothing after the pending policy ran yet');
  assert.equal(await p, local);
  assert.deepEqual(log, ['first', 'later', 'after']);
  assert.equal(c.header('x-async'), '1');
});

test('access: a throwing or rejecting policy is a 500 naming it, and the chain stops', async () => {
  const log: string[] = [];
  const boom: PolicyInstance = { name: 'kind:boom', access: () => { throw new Error('bug'); } };
  const r = runAccess([boom, mark('never', log)], ctx());
  assert.ok(r instanceof GatewayError);
  assert.equal(r.status, 500);
  assert.equal(r.code, 'internal_error');
  assert.match(r.detail!, /kind:boom/);
  assert.equal((r.cause as Error).message, 'bug');
  const rejects: PolicyInstance = { name: 'kind:rejects', access: () => Promise.reject(new Error('async bug')) };
  const v = await runAccess([rejects, mark('never', log)], ctx());
  assert.ok(v instanceof GatewayError);
  assert.equal(v.status, 500);
  assert.match(v.detail!, /kind:rejects/);
  assert.deepEqual(log, []);
});

test('requestBody: each policy sees the body the previous one left', async () => {
  const upper: PolicyInstance = { name: 'upper', requestBody: (c, b) => { c.requestBody = Buffer.from(b.toString().toUpperCase()); return undefined; } };
  const check: PolicyInstance = { name: 'check', requestBody: (_c, b) => Promise.resolve(b.toString() === 'HELLO' ? undefined : DENY) };
  const c = ctx();
  c.requestBody = Buffer.from('hello');
  assert.equal(await runRequestBody([upper, check], c), undefined);
  assert.equal(c.requestBody.toString(), 'HELLO');
  const c2 = ctx();
  c2.requestBody = Buffer.from('other');
  assert.equal(await runRequestBody([check], c2), DENY);
});

test('responseHead: edits apply in order; a replacement counts only where replaceable; a throw is reported', () => {
  const errors: string[] = [];
  const set: PolicyInstance = { name: 'set', responseHead: (_c, h) => { h.headers.push('x-a', '1'); return undefined; } };
  const status: PolicyInstance = { name: 'status', responseHead: (_c, h) => { h.status = 299; return undefined; } };
  const replace: PolicyInstance = { name: 'replace', responseHead: () => DENY };
  const boom: PolicyInstance = { name: 'boom', responseHead: () => { throw new Error('x'); } };
  const head: ResponseHead = { status: 200, headers: [] };
  assert.equal(runResponseHead([set, status, boom], ctx(), head, false, (n) => errors.push(n)), undefined);
  assert.deepEqual(head, { status: 299, headers: ['x-a', '1'] });
  assert.deepEqual(errors, ['boom']);
  assert.equal(runResponseHead([replace, set], ctx(), { status: 200, headers: [] }, true, () => {}), DENY);
  assert.equal(runResponseHead([replace], ctx(), { status: 200, headers: [] }, false, () => {}), undefined);
  const thrown = runResponseHead([boom], ctx(), { status: 200, headers: [] }, true, () => {});
  assert.ok(thrown instanceof GatewayError && thrown.status === 500);
});

test('responseBody: async transformation of the whole body', async () => {
  const t: PolicyInstance = { name: 't', responseBody: (_c, r) => new Promise((ok) => setTimeout(() => { r.body = Buffer.from(r.body.toString().split('').reverse().join('')); ok(undefined); }, 2)) };
  const res: BufferedResponse = { status: 200, headers: [], body: Buffer.from('abc') };
  assert.equal(await runResponseBody([t], ctx(), res), undefined);
  assert.equal(res.body.toString(), 'cba');
});

test('onLog: a throwing policy does not stop the others', () => {
  const seen: string[] = [];
  const errors: string[] = [];
  runLog([
    { name: 'a', onLog: () => { seen.push('a'); } },
    { name: 'b', onLog: () => { throw new Error('b'); } },
    { name: 'c', onLog: () => { seen.push('c'); } },
  ], ctx(), (n) => errors.push(n));
  assert.deepEqual(seen, ['a', 'c']);
  assert.deepEqual(errors, ['b']);
});

test('problem heads: every policy sees the terminal\'s problem; throws are reported and skipped; the first local response replaces it', () => {
  const problem = new GatewayError(ErrorCodes.UPSTREAM_CONNECT_FAILED);
  const head: ResponseHead = { status: 502, headers: [], problem };
  const seen: string[] = [];
  const errors: string[] = [];
  const stale = new LocalResponse(200, ['x-cache', 'STALE'], 'old');
  const chain: PolicyInstance[] = [
    { name: 'edit', responseHead: (_c, h) => { seen.push('edit:' + h.problem!.code); h.headers.push('x-a', '1'); return undefined; } },
    { name: 'boom', responseHead: () => { throw new Error('bad'); } },
    { name: 'refuse', responseHead: () => DENY },
    { name: 'cache', responseHead: () => stale },
    { name: 'after', responseHead: () => { seen.push('after'); return undefined; } },
  ];
  assert.equal(runProblemHead(chain, ctx(), head, (name) => errors.push(name)), stale);
  assert.deepEqual(seen, ['edit:upstream_connect_failed']);
  assert.deepEqual(errors, ['boom']);
  assert.deepEqual(head.headers, ['x-a', '1']);
  assert.equal(runProblemHead(chain.slice(0, 3), ctx(), head, () => undefined), undefined, 'a GatewayError does not replace a problem');
});
