import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configBinding, httpBindings, type ConfigHttpRule, type HttpBinding } from './bindings.js';
import { HttpRuleError } from './errors.js';
import { buildRequestObject } from './request-mapping.js';
import { libraryRoot } from './test-support.js';

const SVC = 'example.library.v1.LibraryService';
const bindings = httpBindings(libraryRoot(), [SVC]);

/** The binding of `method` (with that template when several). */
function b(method: string, template?: string): HttpBinding {
  const found = bindings.find((x) => x.method === method && (template === undefined || x.template.source === template));
  assert.ok(found, method);
  return found;
}

function cfg(rule: Omit<ConfigHttpRule, 'rpc'> & { rpc: string }): HttpBinding {
  return configBinding(libraryRoot(), { ...rule, rpc: `${SVC}/${rule.rpc}` });
}

/** Runs the full path: raw path → route.match → buildRequestObject. */
function map(binding: HttpBinding, rawPath: string, query: string, body?: unknown, ignoreUnknownQuery = false): Record<string, unknown> {
  const vars = binding.route.match(rawPath);
  assert.ok(vars !== null, `${binding.method} must match ${rawPath}`);
  return buildRequestObject(binding, vars, query, body, { ignoreUnknownQuery });
}

function expectError(fn: () => unknown, code: string, fragment: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HttpRuleError, String(err));
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.includes(fragment), `"${err.message}" lacks "${fragment}"`);
    return true;
  });
}

test('path variables: simple, multi-segment and nested (book.name creates book)', () => {
  assert.deepEqual(map(b('GetShelf'), '/v1/shelves/s1', ''), { name: 'shelves/s1' });
  assert.deepEqual(map(b('GetBook', '/v1/books/{book_id}'), '/v1/books/b%201', ''), { bookId: 'b 1' });
  assert.deepEqual(map(b('UpdateBook'), '/v1/shelves/s/books/b', ''), { book: { name: 'shelves/s/books/b' } });
  assert.deepEqual(map(b('StreamBooks'), '/v1/shelves/s/books:stream', 'limit=5'), { parent: 'shelves/s', limit: '5' });
});

test('query parameters: scalars stay strings, nested a.b, repeated, wrappers, JSON or proto names, "+" is a space', () => {
  assert.deepEqual(map(b('ListShelves'), '/v1/shelves', '?page_size=10&pageToken=a+b&filter.genre=FICTION&filter.themes=x&filter.themes=y&filter.minBooks=3'), {
    pageSize: '10',
    pageToken: 'a b',
    filter: { genre: 'FICTION', themes: ['x', 'y'], minBooks: '3' },
  });
  const search = map(b('SearchBooks'), '/v1/books:search', 'query=dune&genres=FICTION&genres=SCIENCE&isbns=1&isbns=2&filter.genre=2');
  assert.deepEqual(search, { query: 'dune', genres: ['FICTION', 'SCIENCE'], isbns: ['1', '2'], filter: { genre: 2 } });
  const params = new URLSearchParams([['genres', '1'], ['page_size', '3']]);
  assert.deepEqual(buildRequestObject(b('SearchBooks'), [], params, undefined), { genres: [1], pageSize: '3' }, 'numeric enum values become numbers');
});

test('query parameters set scalar-like well-known types and booleans; a bad boolean is rejected', () => {
  const get = cfg({ rpc: 'ReplaceBook', method: 'GET', path: '/v2/{name=shelves/*/books/*}' });
  const q = 'available=true&publish_time=2024-05-01T10:00:00Z&read_time=3.5s&reprint_count=2&subtitle=vol+1&cover_thumbnail=aGk%3D&page_views=18446744073709551615&tags=a';
  assert.deepEqual(map(get, '/v2/shelves/s/books/b', q), {
    name: 'shelves/s/books/b',
    available: true,
    publishTime: '2024-05-01T10:00:00Z',
    readTime: '3.5s',
    reprintCount: '2',
    subtitle: 'vol 1',
    coverThumbnail: 'aGk=',
    pageViews: '18446744073709551615',
    tags: ['a'],
  });
  assert.deepEqual(map(get, '/v2/shelves/s/books/b', 'available=false'), { name: 'shelves/s/books/b', available: false });
  expectError(() => map(get, '/v2/shelves/s/books/b', 'available=yes'), 'invalid_query_parameter', 'field "available" is a boolean, expected "true" or "false", got "yes"');
  const checkout = cfg({ rpc: 'CheckoutBook', method: 'GET', path: '/v2/loans/{name}' });
  assert.deepEqual(map(checkout, '/v2/loans/n', 'period=3600s&patron=p'), { name: 'n', period: '3600s', patron: 'p' });
  const update = cfg({ rpc: 'UpdateBook', method: 'GET', path: '/v2/{book.name=shelves/*/books/*}' });
  assert.deepEqual(map(update, '/v2/shelves/s/books/b', 'update_mask=title,genre&book.title=T'), {
    book: { name: 'shelves/s/books/b', title: 'T' },
    updateMask: 'title,genre',
  });
});

test('a boolean path variable must be true or false', () => {
  const avail = cfg({ rpc: 'ReplaceBook', method: 'GET', path: '/v2/avail/{available}' });
  assert.deepEqual(map(avail, '/v2/avail/true', ''), { available: true });
  expectError(() => map(avail, '/v2/avail/maybe', ''), 'invalid_path_parameter', 'path variable {available}');
});

test('query parameters that cannot be mapped are rejected with precise messages', () => {
  const list = b('ListShelves');
  expectError(() => map(list, '/v1/shelves', 'nope=1'), 'unknown_query_parameter', 'query parameter "nope": no field "nope" in example.library.v1.ListShelvesRequest');
  expectError(() => map(list, '/v1/shelves', 'filter.nope=1'), 'unknown_query_parameter', 'no field "nope" in example.library.v1.Filter');
  expectError(() => map(list, '/v1/shelves', 'filter=x'), 'invalid_query_parameter', 'field "filter" is a message');
  expectError(() => map(list, '/v1/shelves', 'page_size=1&page_size=2'), 'invalid_query_parameter', 'given 2 times but field "page_size" is not repeated');
  expectError(() => map(list, '/v1/shelves', 'page_size=1&pageSize=2'), 'invalid_query_parameter', 'query parameters "page_size" and "pageSize" both set field "page_size"');
  expectError(() => map(list, '/v1/shelves', 'page_token.x=1'), 'invalid_query_parameter', 'field "page_token" is not a message');
  const get = cfg({ rpc: 'ReplaceBook', method: 'GET', path: '/v2/{name=shelves/*/books/*}' });
  expectError(() => map(get, '/v2/shelves/s/books/b', 'authors.display_name=x'), 'invalid_query_parameter', 'field "authors" is repeated');
  expectError(() => map(get, '/v2/shelves/s/books/b', 'authors=x'), 'invalid_query_parameter', 'field "authors" is a repeated message');
  expectError(() => map(get, '/v2/shelves/s/books/b', 'labels=x'), 'invalid_query_parameter', 'field "labels" is a map');
  expectError(() => map(get, '/v2/shelves/s/books/b', 'labels.k=x'), 'invalid_query_parameter', 'field "labels" is a map');
  expectError(() => map(get, '/v2/shelves/s/books/b', 'publish_time.seconds=1'), 'invalid_query_parameter', 'field "publish_time" is a google.protobuf.Timestamp');
  expectError(() => map(get, '/v2/shelves/s/books/b', 'metadata=x'), 'invalid_query_parameter', 'field "metadata" is a message');
});

test('ignoreUnknownQuery skips unknown names but still rejects unmappable known fields', () => {
  assert.deepEqual(map(b('ListShelves'), '/v1/shelves', 'nope=1&page_size=2&filter.nope=3', undefined, true), { pageSize: '2' });
  expectError(() => map(b('ListShelves'), '/v1/shelves', 'nope=1&filter=x', undefined, true), 'invalid_query_parameter', 'field "filter" is a message');
});

test('query parameters bound by the path are skipped (the path wins)', () => {
  assert.deepEqual(map(b('GetShelf'), '/v1/shelves/s1', 'name=other'), { name: 'shelves/s1' });
  assert.deepEqual(map(b('UpdateBook'), '/v1/shelves/s/books/b', 'book.name=x&updateMask=title'), { book: { name: 'shelves/s/books/b' }, updateMask: 'title' });
  assert.deepEqual(map(b('GetBook', '/v1/books/{book_id}'), '/v1/books/b1', 'bookId=x&name=n'), { bookId: 'b1', name: 'n' }, 'bound under its JSON name too');
});

test('body "*": the JSON body is the message, path variables win, query parameters are skipped', () => {
  const replace = b('ReplaceBook');
  const body = { name: 'ignored', title: 'Dune', authors: [{ displayName: 'Herbert' }], labels: { a: 'b' } };
  const out = map(replace, '/v1/shelves/s/books/b', 'title=fromQuery&authors.display_name=x&metadata.x=1', body);
  assert.deepEqual(out, { name: 'shelves/s/books/b', title: 'Dune', authors: [{ displayName: 'Herbert' }], labels: { a: 'b' } });
  assert.equal(body.name, 'ignored', 'the caller body is not mutated');
  assert.deepEqual(map(replace, '/v1/shelves/s/books/b', ''), { name: 'shelves/s/books/b' }, 'no body at all');
  expectError(() => map(replace, '/v1/shelves/s/books/b', 'nope=1', {}), 'unknown_query_parameter', '"nope"');
  expectError(() => map(replace, '/v1/shelves/s/books/b', '', [1, 2]), 'invalid_body', 'must be a JSON object');
  expectError(() => map(replace, '/v1/shelves/s/books/b', '', 'text'), 'invalid_body', 'whole example.library.v1.Book message');
  assert.deepEqual(map(b('MoveBook'), '/v1/shelves/s/books/b', '', { otherShelf: 'x' }), { name: 'shelves/s/books/b', otherShelf: 'x' });
  assert.deepEqual(map(b('CheckoutBook'), '/v1/shelves/s/books/b:checkout', '', { patron: 'p', period: '86400s', name: 'n' }), {
    name: 'shelves/s/books/b',
    patron: 'p',
    period: '86400s',
  });
});

test('a path variable replaces a body key spelled with either the proto or the JSON name', () => {
  const create = cfg({ rpc: 'CreateShelf', method: 'POST', path: '/v2/shelves/{shelf_id}', body: '*' });
  const out = map(create, '/v2/shelves/s9', '', { shelf_id: 'evil', shelf: { theme: 't' } });
  assert.deepEqual(out, { shelfId: 's9', shelf: { theme: 't' } });
  assert.deepEqual(map(create, '/v2/shelves/s9', '', { shelfId: 'evil' }), { shelfId: 's9' });
  const update = b('UpdateBook');
  const body = { name: 'evil', title: 'T', page_views: '3' };
  assert.deepEqual(map(update, '/v1/shelves/s/books/b', '', body), { book: { name: 'shelves/s/books/b', title: 'T', page_views: '3' } });
  assert.equal(body.name, 'evil', 'the caller body is not mutated');
  const odd = map(update, '/v1/shelves/s/books/b', '', 'not-an-object');
  assert.deepEqual(odd, { book: { name: 'shelves/s/books/b' } }, 'a non-object body under a path-bound field is replaced (path wins)');
});

test('body "field": the JSON body goes into that field; query params under it are skipped, others applied', () => {
  const create = b('CreateBook');
  assert.deepEqual(map(create, '/v1/shelves/s/books', 'request_id=r1&book.title=fromQuery', { title: 'Dune', genre: 'FICTION' }), {
    parent: 'shelves/s',
    book: { title: 'Dune', genre: 'FICTION' },
    requestId: 'r1',
  });
  assert.deepEqual(map(create, '/v1/shelves/s/books', ''), { parent: 'shelves/s' }, 'no body: the field stays unset');
  assert.deepEqual(map(b('CreateShelf'), '/v1/shelves', 'shelf_id=x', { theme: 't' }), { shelf: { theme: 't' }, shelfId: 'x' });
  assert.deepEqual(map(b('CreateShelf'), '/v1/shelves', '', [1]), { shelf: [1] }, 'the field value is left to the JSON parser to validate');
});

test('a body sent to a binding without a body rule is ignored', () => {
  assert.deepEqual(map(b('GetShelf'), '/v1/shelves/s1', '', { name: 'x', theme: 'y' }), { name: 'shelves/s1' });
});
