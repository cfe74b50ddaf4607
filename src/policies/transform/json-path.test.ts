import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTrie, KeyGlob, overlaps, parsePath, PathError, pathText, type PathNode } from './json-path.js';

test('paths parse into steps: dots, [] per array level, globs where allowed', () => {
  assert.deepEqual(parsePath('address.city', false), [{ key: 'address', glob: false, each: 0 }, { key: 'city', glob: false, each: 0 }]);
  assert.deepEqual(parsePath('items[].id', false), [{ key: 'items', glob: false, each: 1 }, { key: 'id', glob: false, each: 0 }]);
  assert.deepEqual(parsePath('grid[][].v', false)[0], { key: 'grid', glob: false, each: 2 });
  assert.deepEqual(parsePath('password*', true), [{ key: 'password*', glob: true, each: 0 }]);
  assert.equal(pathText(parsePath('a[].b.c[][]', false)), 'a[].b.c[][]');
});

test('bad paths are refused with a reason', () => {
  const bad: Array<[string, boolean, RegExp]> = [
    ['', true, /empty path/],
    ['a..b', true, /empty step/],
    ['.a', true, /empty step/],
    ['a.', true, /empty step/],
    ['[].id', true, /must follow a field name/],
    ['items[0].id', true, /indexes are not supported/],
    ['items[].id]', true, /"\]" without "\["/],
    ['a[]x', true, /only "\[\]"/],
    ['pass*', false, /globs are allowed in allow and remove paths only/],
  ];
  for (const [text, globs, why] of bad) assert.throws(() => parsePath(text, globs), (e: unknown) => e instanceof PathError && why.test(e.message), text);
});

test('a glob matches by its literal pieces', () => {
  const m = (p: string, k: string): boolean => new KeyGlob(p).matches(k);
  assert.ok(m('password*', 'password'));
  assert.ok(m('password*', 'passwordHash'));
  assert.ok(!m('password*', 'xpassword'));
  assert.ok(m('*_id', 'user_id'));
  assert.ok(!m('*_id', 'user_idx'));
  assert.ok(m('*', ''));
  assert.ok(m('a*b*c', 'abc'));
  assert.ok(m('a*b*c', 'a-b-b-c'));
  assert.ok(!m('a*b*c', 'acb'));
  assert.ok(!m('ab*ba', 'aba'), 'the pieces may not overlap');
  assert.ok(m('*x*', 'yyxyy'));
});

/** The trie as a plain object, for comparison. */
function shape(n: PathNode): unknown {
  if (n.end) return true;
  const out: Record<string, unknown> = {};
  for (const k of n.keys ?? []) out[k] = shape(n.exact!.get(k)!);
  (n.globs ?? []).forEach((g, i) => { out['glob:' + g.pattern] = shape(n.globNodes![i]); });
  if (n.each !== null) out['[]'] = shape(n.each);
  return out;
}

test('paths compile into one trie; an exact key gets the subtrees of the globs matching it', () => {
  const t = compileTrie(['id', 'address.city', 'items[].id', 'items[].sku', 'a*.zip', 'address.street'].map((p) => parsePath(p, true)));
  assert.deepEqual(shape(t), {
    id: true,
    address: { city: true, street: true, zip: true },
    items: { '[]': { id: true, sku: true } },
    'glob:a*': { zip: true },
  });
  // A whole value wins over paths inside it.
  assert.deepEqual(shape(compileTrie([parsePath('a.b', false), parsePath('a', false)])), { a: true });
  // Two globs matching one key: the lookup unites them.
  const g = compileTrie([parsePath('x*.a', true), parsePath('*y.b', true)]);
  assert.deepEqual(shape(g.child('xy')!), { a: true, b: true });
  assert.deepEqual(shape(g.child('xz')!), { a: true });
  assert.equal(g.child('zz'), null);
});

test('overlaps: one path inside the other', () => {
  const p = (s: string) => parsePath(s, false);
  assert.ok(overlaps(p('a'), p('a.b')));
  assert.ok(overlaps(p('a.b'), p('a.b')));
  assert.ok(!overlaps(p('a.b'), p('a.c')));
});
