import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../ingress/request-context.js';
import { JsonOps, type JsonOpsConfig } from './json-ops.js';

function context(): RequestContext {
  const ctx = new RequestContext(null as never);
  ctx.method = 'POST';
  ctx.path = '/users/7';
  ctx.requestId = 'req-1';
  ctx.route = { name: 'users', paramNames: ['id'] } as never;
  ctx.params.push('7');
  ctx.headerNames.push('x-client');
  ctx.headerValues.push('mobile "beta"');
  return ctx;
}

const run = (c: JsonOpsConfig, body: unknown): unknown => new JsonOps(c).apply(structuredClone(body), context());

const USER = {
  id: 1, name: 'Ann', email: 'a@x', password: 'p', passwordHash: 'h', internalFlag: true, userName: 'ann',
  address: { city: 'Oslo', street: 'Main 1', zip: '0150' },
  items: [{ id: 'a', sku: 1, secret: 's' }, { id: 'b', sku: 2 }, 'scalar'],
};

test('allow projects to the listed paths (nested, arrays, globs); a set field survives the projection', () => {
  assert.deepEqual(run({ allow: ['id', 'name', 'email', 'address.city'], set: { apiVersion: 2 } }, USER),
    { id: 1, name: 'Ann', email: 'a@x', address: { city: 'Oslo' }, apiVersion: 2 });
  assert.deepEqual(run({ allow: ['items[].id'] }, USER), { items: [{ id: 'a' }, { id: 'b' }, null] });
  assert.deepEqual(run({ allow: ['address.*'] }, USER), { address: USER.address });
  assert.deepEqual(run({ allow: ['pass*'] }, USER), { password: 'p', passwordHash: 'h' });
  assert.deepEqual(run({ allow: ['items[]'] }, USER), { items: USER.items });
  // `[]` on a value that is not an array matches nothing; a path into a scalar neither.
  assert.deepEqual(run({ allow: ['address[].city', 'name.first', 'missing'] }, USER), {});
});

test('remove deletes paths (globs per step, inside arrays, whole arrays emptied)', () => {
  const out = run({ remove: ['password*', 'internalFlag', 'items[].secret', 'address.z*'] }, USER) as Record<string, unknown>;
  assert.deepEqual(Object.keys(out), ['id', 'name', 'email', 'userName', 'address', 'items']);
  assert.deepEqual(out.address, { city: 'Oslo', street: 'Main 1' });
  assert.deepEqual(out.items, [{ id: 'a', sku: 1 }, { id: 'b', sku: 2 }, 'scalar']);
  assert.deepEqual((run({ remove: ['items[]'] }, USER) as { items: unknown[] }).items, []);
  assert.deepEqual(run({ remove: ['*.city'] }, { a: { city: 1, x: 2 }, b: { city: 3 } }), { a: { x: 2 }, b: {} });
});

test('rename moves values: in place (also inside arrays) or across objects; absent sources do nothing', () => {
  assert.deepEqual(run({ rename: { userName: 'username' } }, { userName: 'ann', id: 1 }), { id: 1, username: 'ann' });
  assert.deepEqual(run({ rename: { 'items[].id': 'items[].key' } }, { items: [{ id: 1 }, { x: 2 }] }), { items: [{ key: 1 }, { x: 2 }] });
  assert.deepEqual(run({ rename: { 'address.city': 'city' } }, { address: { city: 'Oslo' } }), { address: {}, city: 'Oslo' });
  assert.deepEqual(run({ rename: { city: 'location.city' } }, { city: 'Oslo' }), { location: { city: 'Oslo' } });
  assert.deepEqual(run({ rename: { nope: 'other' } }, { id: 1 }), { id: 1 });
  assert.deepEqual(run({ rename: { a: 'b' } }, { a: 1, b: 2 }), { b: 1 }, 'like mv: the target is replaced');
});

test('set writes JSON values and templates; creates missing objects; leaves scalars in the way alone', () => {
  const out = run({ set: { source: 'gateway', 'meta.client': '${header.x-client}', 'meta.route': 'r=${route}/${param.id} ünïcode', n: 2, o: { a: [1] }, nul: null } }, { meta: null });
  assert.deepEqual(out, { meta: { client: 'mobile "beta"', route: 'r=users/7 ünïcode' }, source: 'gateway', n: 2, o: { a: [1] }, nul: null });
  assert.deepEqual(run({ set: { 'name.first': 'x' } }, { name: 'Ann' }), { name: 'Ann' });
  assert.deepEqual(run({ set: { 'items[].seen': true } }, { items: [{ id: 1 }, 3] }), { items: [{ id: 1, seen: true }, 3] });
  assert.equal(JSON.stringify(run({ set: { q: '${header.x-client}' } }, {})), '{"q":"mobile \\"beta\\""}', 'a variable value is JSON-escaped by stringify');
});

test('the order is fixed: allow, remove, rename, set', () => {
  const c: JsonOpsConfig = { set: { a: 'set' }, rename: { b: 'a' }, remove: ['c'], allow: ['b', 'c'] };
  assert.deepEqual(run(c, { a: 1, b: 2, c: 3, d: 4 }), { a: 'set' });
  assert.deepEqual(run({ rename: { b: 'a' }, allow: ['b'] }, { a: 1, b: 2 }), { a: 2 });
});

test('a top-level array has each element transformed; scalars pass', () => {
  assert.deepEqual(run({ allow: ['id'], set: { v: 1 } }, [{ id: 1, x: 1 }, { id: 2 }, 5]), [{ id: 1, v: 1 }, { id: 2, v: 1 }, 5]);
  assert.equal(run({ allow: ['id'] }, 'text'), 'text');
  assert.equal(run({ set: { a: 1 } }, null), null);
});
