import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertUniqueBindings, configBinding, httpBindings, type HttpBinding } from './bindings.js';
import { HttpRuleError } from './errors.js';
import { libraryRoot, loadInlineProto } from './test-support.js';

const SVC = 'example.library.v1.LibraryService';

function row(b: HttpBinding): string {
  const flags = `${b.serverStreaming ? ' stream' : ''}${b.clientStreaming ? ' client-stream' : ''}`;
  return `${b.method} ${b.httpMethod} ${b.template.source} body=${b.body} rb=${b.responseBody} ${b.requestType.name}->${b.responseType.name}${flags}`;
}

test('httpBindings finds every LibraryService binding with method, path, body and response_body', () => {
  const bindings = httpBindings(libraryRoot(), [SVC]);
  assert.deepEqual(bindings.map(row), [
    'GetShelf GET /v1/{name=shelves/*} body= rb= GetShelfRequest->Shelf',
    'ListShelves GET /v1/shelves body= rb= ListShelvesRequest->ListShelvesResponse',
    'CreateShelf POST /v1/shelves body=shelf rb= CreateShelfRequest->Shelf',
    'DeleteShelf DELETE /v1/{name=shelves/*} body= rb= DeleteShelfRequest->Empty',
    'GetBook GET /v1/{name=shelves/*/books/*} body= rb= GetBookRequest->Book',
    'GetBook GET /v1/books/{book_id} body= rb= GetBookRequest->Book',
    'CreateBook POST /v1/{parent=shelves/*}/books body=book rb= CreateBookRequest->Book',
    'UpdateBook PATCH /v1/{book.name=shelves/*/books/*} body=book rb= UpdateBookRequest->Book',
    'ReplaceBook PUT /v1/{name=shelves/*/books/*} body=* rb= Book->Book',
    'SearchBooks GET /v1/books:search body= rb=books SearchBooksRequest->SearchBooksResponse',
    'MoveBook MOVE /v1/{name=shelves/*/books/*} body=* rb= MoveBookRequest->Book',
    'CheckoutBook POST /v1/{name=shelves/*/books/*}:checkout body=* rb= CheckoutRequest->Loan',
    'StreamBooks GET /v1/{parent=shelves/*}/books:stream body= rb= StreamBooksRequest->Book stream',
  ]);
  const checkout = bindings.find((b) => b.method === 'CheckoutBook');
  assert.equal(checkout?.template.verb, 'checkout');
  assert.equal(checkout?.fullPath, `/${SVC}/CheckoutBook`);
  assert.equal(checkout?.service, SVC);
  assert.equal(checkout?.source, 'annotation');
  assert.equal(checkout?.route.path, '/v1/shelves/:p0/books/:p1');
  assert.ok(bindings.every((b) => !b.clientStreaming));
  assert.ok(!bindings.some((b) => b.method === 'Echo'), 'Echo has no annotation');
});

test('configBinding binds an unannotated rpc from config form', () => {
  const b = configBinding(libraryRoot(), { rpc: `${SVC}/Echo`, method: 'post', path: '/v1/echo', body: '*' });
  assert.equal(row(b), 'Echo POST /v1/echo body=* rb= EchoMessage->EchoMessage');
  assert.equal(b.source, 'config');
  assert.equal(b.fullPath, `/${SVC}/Echo`);
  const custom = configBinding(libraryRoot(), { rpc: `/${SVC}/Echo`, method: 'Report', path: '/v1/echo/{text}', responseBody: 'payload' });
  assert.equal(row(custom), 'Echo Report /v1/echo/{text} body= rb=payload EchoMessage->EchoMessage');
  assertUniqueBindings([...httpBindings(libraryRoot(), [SVC]), b, custom]);
});

function expectRuleError(fn: () => unknown, code: string, ...fragments: string[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HttpRuleError, String(err));
    assert.equal(err.code, code, err.message);
    for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" lacks "${f}"`);
    return true;
  });
}

test('configBinding rejects unknown services, rpcs and malformed rpc names', () => {
  const root = libraryRoot();
  expectRuleError(() => configBinding(root, { rpc: 'nope.Svc/X', method: 'GET', path: '/x' }), 'unknown_service', 'service "nope.Svc"');
  expectRuleError(() => configBinding(root, { rpc: `${SVC}/Nope`, method: 'GET', path: '/x' }), 'unknown_rpc', 'has no method "Nope"');
  expectRuleError(() => configBinding(root, { rpc: 'Echo', method: 'GET', path: '/x' }), 'invalid_http_rule', 'package.Service/Method');
  expectRuleError(() => configBinding(root, { rpc: `${SVC}/Echo`, method: 'GET', path: '/v1/{nope}' }), 'invalid_http_rule', `rpc ${SVC}/Echo (GET /v1/{nope})`, 'path variable {nope}: no field "nope" in example.library.v1.EchoMessage');
  expectRuleError(() => configBinding(root, { rpc: `${SVC}/Echo`, method: 'GET', path: '/v1/{text' }), 'invalid_http_rule', 'at position 9');
  expectRuleError(() => httpBindings(root, ['example.library.v1.Nope']), 'unknown_service');
});

const HEADER = 'syntax = "proto3"; package t; import "google/api/annotations.proto"; import "google/protobuf/timestamp.proto";\n' +
  'message Inner { string id = 1; repeated string tags = 2; }\n' +
  'message Req { string name = 1; Inner inner = 2; repeated string list = 3; map<string, string> labels = 4; google.protobuf.Timestamp at = 5; repeated Inner inners = 6; }\n';

function svc(rpcs: string): string {
  return `${HEADER}service S {\n${rpcs}\n}\n`;
}

/** [rpc body, error fragments] for invalid annotations. */
const BAD: Array<[string, string[]]> = [
  ['rpc M(stream Req) returns (Req) { option (google.api.http) = { post: "/m" body: "*" }; }', ['rpc t.S/M (POST /m)', 'client-streaming methods cannot be transcoded']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { get: "/m" body: "*" }; }', ['rpc t.S/M (GET /m)', 'GET cannot have a body']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { delete: "/m/{name}" body: "inner" }; }', ['DELETE cannot have a body']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { get: "/m/{nme}" }; }', ['path variable {nme}: no field "nme" in t.Req']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { get: "/m/{inner.nope}" }; }', ['no field "nope" in t.Inner']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { get: "/m/{name.x}" }; }', ['field "name" is not a message']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { get: "/m/{inners.id}" }; }', ['field "inners" is repeated']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { get: "/m/{list}" }; }', ['path variable {list} is repeated field']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { get: "/m/{labels}" }; }', ['path variable {labels} is a map field']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { get: "/m/{inner}" }; }', ['path variable {inner} is a message field']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { post: "/m" body: "nope" }; }', ['body "nope": no field "nope" in t.Req']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { post: "/m" body: "inner.id" }; }', ['body "inner.id" must be a top-level field of t.Req']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { get: "/m" response_body: "nope" }; }', ['response_body "nope": no field "nope" in t.Req']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { body: "*" }; }', ['rpc t.S/M: no pattern']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { get: "/a" post: "/b" }; }', ['more than one pattern (get, post)']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { custom { path: "/m" } }; }', ['custom pattern without "kind"']],
  ['rpc M(Req) returns (Req) { option (google.api.http) = { get: "/m/{name" }; }', ['rpc t.S/M (GET /m/{name)', 'at position 8']],
  [
    'rpc M(Req) returns (Req) { option (google.api.http) = { get: "/a" additional_bindings { get: "/b" additional_bindings { get: "/c" } } }; }',
    ['additional_bindings[0]: additional_bindings must not contain additional_bindings'],
  ],
  [
    'rpc M(Req) returns (Req) { option (google.api.http) = { get: "/v1/{name}" }; }\n' +
      '  rpc N(Req) returns (Req) { option (google.api.http) = { get: "/v1/{inner.id=*}" }; }',
    ['duplicate HTTP route GET /v1/*', 'rpc t.S/M (/v1/{name})', 'rpc t.S/N (/v1/{inner.id=*})'],
  ],
  [
    'rpc M(Req) returns (Req) { option (google.api.http) = { get: "/v1/x" additional_bindings { get: "/v1/x" } }; }',
    ['duplicate HTTP route GET /v1/x'],
  ],
];

test('httpBindings rejects invalid rules with a message naming the rpc', () => {
  for (const [rpcs, fragments] of BAD) {
    const root = loadInlineProto(svc(rpcs));
    expectRuleError(() => httpBindings(root, ['t.S']), 'invalid_http_rule', ...fragments);
  }
});

test('httpBindings accepts what the rules allow: several additional_bindings, custom "*", wrappers in paths, same path different verbs', () => {
  const root = loadInlineProto(
    svc(
      'rpc A(Req) returns (Req) { option (google.api.http) = { get: "/a/{name}" additional_bindings { post: "/a" body: "*" } additional_bindings { custom { kind: "*" path: "/any/{inner.id}" } } }; }\n' +
        '  rpc B(Req) returns (Req) { option (google.api.http) = { get: "/t/{at}" }; }\n' +
        '  rpc C(Req) returns (Req) { option (google.api.http) = { post: "/a/{name}:run" body: "inner" }; }\n' +
        '  rpc D(Req) returns (Req) { option (google.api.http).post = "/a/{name}:stop"; option (google.api.http).body = "*"; }\n' +
        '  rpc E(stream Req) returns (Req);',
    ),
  );
  const rows = httpBindings(root, ['t.S']).map((b) => `${b.method} ${b.httpMethod} ${b.template.source} ${b.body}`);
  assert.deepEqual(rows, ['A GET /a/{name} ', 'A POST /a *', 'A * /any/{inner.id} ', 'B GET /t/{at} ', 'C POST /a/{name}:run inner', 'D POST /a/{name}:stop *']);
});
