import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouter } from '../../router/compile-router.js';
import { RecordLookup } from '../../router/record-lookup.js';
import { makeRoute } from '../../router/router-cases.js';
import { httpBindings, type HttpBinding } from './bindings.js';
import { HttpRuleError } from './errors.js';
import { parsePathTemplate } from './path-template.js';
import { groupForRouter, toRouterRoute, type PathVars } from './router-route.js';
import { libraryRoot } from './test-support.js';

const SVC = 'example.library.v1.LibraryService';

function route(src: string) {
  return toRouterRoute(parsePathTemplate(src));
}

/** Per library binding: router path, verbInCapture, sample router params, assembled vars, a raw path and its vars. */
const LIBRARY_ROUTES: Array<[string, string, boolean, string[], PathVars, string, PathVars]> = [
  ['GetShelf', '/v1/shelves/:p0', false, ['s1'], [['name', 'shelves/s1']], '/v1/shelves/s1', [['name', 'shelves/s1']]],
  ['ListShelves', '/v1/shelves', false, [], [], '/v1/shelves', []],
  ['CreateShelf', '/v1/shelves', false, [], [], '/v1/shelves', []],
  ['DeleteShelf', '/v1/shelves/:p0', false, ['s1'], [['name', 'shelves/s1']], '/v1/shelves/s1', [['name', 'shelves/s1']]],
  ['GetBook', '/v1/shelves/:p0/books/:p1', false, ['s', 'b'], [['name', 'shelves/s/books/b']], '/v1/shelves/s/books/b', [['name', 'shelves/s/books/b']]],
  ['GetBook', '/v1/books/:p0', false, ['b 1'], [['book_id', 'b 1']], '/v1/books/b%201', [['book_id', 'b 1']]],
  ['CreateBook', '/v1/shelves/:p0/books', false, ['s'], [['parent', 'shelves/s']], '/v1/shelves/s/books', [['parent', 'shelves/s']]],
  ['UpdateBook', '/v1/shelves/:p0/books/:p1', false, ['s', 'b'], [['book.name', 'shelves/s/books/b']], '/v1/shelves/s/books/b', [['book.name', 'shelves/s/books/b']]],
  ['ReplaceBook', '/v1/shelves/:p0/books/:p1', false, ['s', 'b'], [['name', 'shelves/s/books/b']], '/v1/shelves/s/books/b', [['name', 'shelves/s/books/b']]],
  ['SearchBooks', '/v1/books:search', false, [], [], '/v1/books:search', []],
  ['MoveBook', '/v1/shelves/:p0/books/:p1', false, ['s', 'b'], [['name', 'shelves/s/books/b']], '/v1/shelves/s/books/b', [['name', 'shelves/s/books/b']]],
  ['CheckoutBook', '/v1/shelves/:p0/books/:p1', true, ['s', 'b:checkout'], [['name', 'shelves/s/books/b']], '/v1/shelves/s/books/b:checkout', [['name', 'shelves/s/books/b']]],
  ['StreamBooks', '/v1/shelves/:p0/books:stream', false, ['s'], [['parent', 'shelves/s']], '/v1/shelves/s/books:stream', [['parent', 'shelves/s']]],
];

test('toRouterRoute, assemble and match for every LibraryService binding', () => {
  const bindings = httpBindings(libraryRoot(), [SVC]);
  assert.equal(bindings.length, LIBRARY_ROUTES.length);
  bindings.forEach((b, i) => {
    const [method, path, verbInCapture, params, assembled, raw, matched] = LIBRARY_ROUTES[i];
    assert.equal(b.method, method);
    assert.equal(b.route.path, path, method);
    assert.equal(b.route.verbInCapture, verbInCapture, method);
    assert.equal(b.route.captures, params.length, method);
    assert.deepEqual(b.route.assemble(params), assembled, method);
    assert.deepEqual(b.route.match(raw), matched, method);
  });
});

test('verbs: a verb in the last capture is checked and stripped; a mismatch gives null', () => {
  const checkout = route('/v1/{name=shelves/*/books/*}:checkout');
  assert.equal(checkout.verb, 'checkout');
  assert.equal(checkout.assemble(['s', 'b']), null);
  assert.equal(checkout.assemble(['s', 'b:return']), null);
  assert.equal(checkout.assemble(['s', ':checkout']), null, 'empty segment before the verb');
  assert.equal(checkout.match('/v1/shelves/s/books/b'), null);
  assert.equal(checkout.match('/v1/shelves/s/books/:checkout'), null);
  assert.equal(checkout.match('/v1/shelves/s/books/b%3Acheckout'), null, 'an escaped colon is not the verb separator');
  assert.deepEqual(checkout.match('/v1/shelves/s/books/a:b:checkout'), [['name', 'shelves/s/books/a:b']]);
  // A template without a verb keeps the colon in the value (grpc-gateway behaviour).
  assert.deepEqual(route('/v1/{name=shelves/*/books/*}').match('/v1/shelves/s/books/b:checkout'), [['name', 'shelves/s/books/b:checkout']]);
  // A literal last segment folds the verb into the router path; match needs it exactly.
  const search = route('/v1/books:search');
  assert.equal(search.path, '/v1/books:search');
  assert.equal(search.verbInCapture, false);
  assert.equal(search.match('/v1/books'), null);
  assert.equal(search.match('/v1/books:searc'), null);
  const dl = route('/v1/files/{path=**}:download');
  assert.equal(dl.path, '/v1/files/*');
  assert.deepEqual(dl.assemble(['a/b%20c.txt:download']), [['path', 'a/b c.txt']]);
  assert.deepEqual(dl.match('/v1/files/a/b.txt:download'), [['path', 'a/b.txt']]);
  assert.equal(dl.match('/v1/files/a/b.txt'), null);
});

test('percent-decoding: single-segment variables fully, multi-segment and ** keep %2F', () => {
  assert.deepEqual(route('/v1/books/{book_id}').match('/v1/books/a%2Fb%20c%C3%A9'), [['book_id', 'a/b cé']]);
  assert.deepEqual(route('/v1/{name=shelves/*}').match('/v1/shelves/a%2Fb%20c'), [['name', 'shelves/a%2Fb c']]);
  assert.deepEqual(route('/v1/{name=shelves/*}').match('/v1/shelves/a%2fb'), [['name', 'shelves/a%2fb']]);
  const files = route('/v1/files/{path=**}');
  assert.equal(files.path, '/v1/files/*');
  assert.deepEqual(files.match('/v1/files/dir%2Fx/y%20z'), [['path', 'dir%2Fx/y z']]);
  assert.deepEqual(files.assemble(['dir%2Fx/y%20z']), [['path', 'dir%2Fx/y z']], 'the router hands the * rest over raw');
  assert.deepEqual(files.match('/v1/files'), [['path', '']]);
  assert.deepEqual(files.match('/v1/files/'), [['path', '']]);
  assert.deepEqual(route('/v1/{p=files/**}').match('/v1/files'), [['p', 'files']]);
  assert.deepEqual(route('/v1/{p=files/**}').match('/v1/files/a/b'), [['p', 'files/a/b']]);
  // Literals inside a variable are decoded too.
  assert.deepEqual(route('/v1/{name=a%20b/*}').match('/v1/a%20b/x'), [['name', 'a b/x']]);
  assert.deepEqual(route('/v1/{name=a%20b/*}').assemble(['x']), [['name', 'a b/x']]);
  for (const bad of ['/v1/books/%E0%A4%A', '/v1/books/%zz']) {
    assert.throws(() => route('/v1/books/{book_id}').match(bad), (err: unknown) => err instanceof HttpRuleError && err.code === 'invalid_path_parameter' && err.message.includes('{book_id}'));
  }
});

test('match rejects paths of another shape', () => {
  const r = route('/v1/{name=shelves/*/books/*}');
  for (const p of ['/v1/shelves/s/books', '/v1/shelves/s/books/b/c', '/v1/shelves//books/b', '/v1/shelf/s/books/b', 'v1/shelves/s/books/b', '/v1/shelves/s/books/']) {
    assert.equal(r.match(p), null, p);
  }
  assert.deepEqual(route('/v1/*/x/{id}').match('/v1/any/x/7'), [['id', '7']], 'a bare * captures nothing');
  assert.equal(route('/v1/*/x/{id}').path, '/v1/:p0/x/:p1');
});

function bindingOf(method: string, httpMethod: string, src: string) {
  return { method, httpMethod, route: route(src) };
}

test('groupForRouter: one entry per (method, router path), verb candidates first', () => {
  const groups = groupForRouter([
    bindingOf('Get', 'GET', '/v1/{name=shelves/*}'),
    bindingOf('Plain', 'POST', '/v1/{name=shelves/*}'),
    bindingOf('Undelete', 'POST', '/v1/{name=shelves/*}:undelete'),
    bindingOf('Archive', 'POST', '/v1/{name=shelves/*}:archive'),
    bindingOf('Search', 'POST', '/v1/shelves:search'),
  ]);
  assert.deepEqual(
    groups.map((g) => `${g.httpMethod} ${g.path} ${g.candidates.map((c) => c.method).join(',')}`),
    ['GET /v1/shelves/:p0 Get', 'POST /v1/shelves/:p0 Undelete,Archive,Plain', 'POST /v1/shelves:search Search'],
  );
  const post = groups[1].candidates;
  const pick = (p: string) => post.find((c) => c.route.match(p) !== null)?.method ?? null;
  assert.equal(pick('/v1/shelves/s:archive'), 'Archive');
  assert.equal(pick('/v1/shelves/s:undelete'), 'Undelete');
  assert.equal(pick('/v1/shelves/s'), 'Plain');
  assert.equal(pick('/v1/shelves/s:other'), 'Plain', 'an unknown verb stays in the verb-less binding value');
});

/** Registers the library bindings in Turnpike's real router and dispatches requests through it. */
test('integration with the Turnpike router: groups registered as routes, candidates tried in order', () => {
  const groups = groupForRouter(httpBindings(libraryRoot(), [SVC]));
  const router = compileRouter(groups.map((g, i) => makeRoute(i, `g${i}`, g.path, { methods: [g.httpMethod] })));
  function dispatch(method: string, rawPath: string): [string, PathVars, PathVars] | number {
    const params: string[] = [];
    const hit = router.match(method, 'localhost', rawPath, new RecordLookup(), params);
    if (hit === null) return 404;
    if (hit.kind !== 'route') return hit.kind === 'bad-path' ? 400 : 405;
    const group = groups[Number(hit.name.slice(1))];
    for (const c of group.candidates as readonly HttpBinding[]) {
      const vars = c.route.match(rawPath);
      if (vars === null) continue;
      const viaParams = c.route.assemble(params);
      assert.ok(viaParams !== null, `${c.method}: assemble agrees with match on ${rawPath}`);
      return [c.method, vars, viaParams];
    }
    return 404;
  }
  assert.deepEqual(dispatch('GET', '/v1/shelves/s1'), ['GetShelf', [['name', 'shelves/s1']], [['name', 'shelves/s1']]]);
  assert.deepEqual(dispatch('DELETE', '/v1/shelves/s1'), ['DeleteShelf', [['name', 'shelves/s1']], [['name', 'shelves/s1']]]);
  assert.deepEqual(dispatch('GET', '/v1/shelves'), ['ListShelves', [], []]);
  assert.deepEqual(dispatch('POST', '/v1/shelves'), ['CreateShelf', [], []]);
  assert.deepEqual(dispatch('GET', '/v1/books:search'), ['SearchBooks', [], []]);
  assert.deepEqual(dispatch('GET', '/v1/books/b%201'), ['GetBook', [['book_id', 'b 1']], [['book_id', 'b 1']]]);
  assert.deepEqual(dispatch('GET', '/v1/shelves/s/books:stream'), ['StreamBooks', [['parent', 'shelves/s']], [['parent', 'shelves/s']]]);
  assert.deepEqual(dispatch('POST', '/v1/shelves/s/books'), ['CreateBook', [['parent', 'shelves/s']], [['parent', 'shelves/s']]]);
  const book: PathVars = [['name', 'shelves/s/books/b']];
  assert.deepEqual(dispatch('GET', '/v1/shelves/s/books/b'), ['GetBook', book, book]);
  assert.deepEqual(dispatch('PUT', '/v1/shelves/s/books/b'), ['ReplaceBook', book, book]);
  assert.deepEqual(dispatch('MOVE', '/v1/shelves/s/books/b'), ['MoveBook', book, book]);
  assert.deepEqual(dispatch('POST', '/v1/shelves/s/books/b:checkout'), ['CheckoutBook', book, book]);
  assert.deepEqual(dispatch('PATCH', '/v1/shelves/s/books/b'), ['UpdateBook', [['book.name', 'shelves/s/books/b']], [['book.name', 'shelves/s/books/b']]]);
  assert.equal(dispatch('POST', '/v1/shelves/s/books/b'), 404, 'POST without the :checkout verb');
  assert.equal(dispatch('GET', '/v1/nothing'), 404);
  assert.equal(dispatch('POST', '/v1/books:search'), 405);
  // The router decodes :pN params; match() on the raw path keeps %2F inside a multi-segment variable.
  assert.deepEqual(dispatch('GET', '/v1/shelves/a%2Fb'), ['GetShelf', [['name', 'shelves/a%2Fb']], [['name', 'shelves/a/b']]]);
});
