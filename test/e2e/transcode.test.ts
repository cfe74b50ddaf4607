// REST→gRPC transcoding end to end: a real @grpc/grpc-js LibraryService, the
// gateway (one worker, this process) configured from library.proto's
// google.api.http annotations plus one config route.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { deadPort, startGateway, type TestGateway } from './helpers.js';
import { startLibraryServer, type LibraryServer } from '../../loadtest/upstream/library-grpc-server.js';

const PROTOS = resolve('config/protos');
const LIBRARY = join(PROTOS, 'example/library/v1/library.proto');

function yaml(port: number, extra = ''): string {
  return `
server: { workers: 1 }
upstreams:
  library: { targets: [ { url: "h2c://127.0.0.1:${port}" } ], protocol: grpc }
grpc:
  - upstream: library
    protos: [ "${LIBRARY}" ]
    includeDirs: [ "${PROTOS}" ]
    services: [ example.library.v1.LibraryService ]
    routes: [ { rpc: example.library.v1.LibraryService/Echo, method: POST, path: /v1/echo, body: "*" } ]
    metadata: [ x-user-id ]
    timeout: 500ms
${extra}
`;
}

async function call(gw: TestGateway, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; type: string; json: any; text: string }> {
  const r = await request(gw.base + path, {
    method: method as 'GET', headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.body.text();
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { /* ndjson or empty */ }
  return { status: r.statusCode, type: String(r.headers['content-type']), json, text };
}

describe('REST→gRPC transcoding (real gRPC server)', () => {
  let srv: LibraryServer;
  let gw: TestGateway;
  before(async () => {
    srv = await startLibraryServer(LIBRARY, PROTOS);
    gw = await startGateway(yaml(srv.port));
  });
  after(async () => {
    await gw?.close();
    await srv?.stop();
  });

  test('GET with a {name=shelves/*} variable: proto3 JSON out (int64 as string, Timestamp RFC 3339)', async () => {
    const r = await call(gw, 'GET', '/v1/shelves/s1');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.type, 'application/json');
    assert.deepEqual(r.json, { name: 'shelves/s1', theme: 'science', bookCount: '9007199254740993', createTime: '2026-11-18T11:06:40.500Z' });
  });

  test('a gRPC NOT_FOUND becomes 404 problem+json with the gRPC message', async () => {
    const r = await call(gw, 'GET', '/v1/shelves/missing');
    assert.equal(r.status, 404);
    assert.equal(r.type, 'application/problem+json');
    assert.equal(r.json.code, 'grpc_not_found');
    assert.equal(r.json.detail, 'shelf shelves/missing does not exist');
    assert.equal(r.json.grpcStatus, 'NOT_FOUND');
    assert.deepEqual(r.json.grpcDetails, [{ '@type': 'type.googleapis.com/google.rpc.ResourceInfo', resourceType: 'example.library.v1.Shelf', resourceName: 'shelves/missing' }]);
  });

  test('POST with body "book": the body goes into the field, the path variable into parent', async () => {
    const r = await call(gw, 'POST', '/v1/shelves/s2/books', { title: 'Dune', isbn: '9780441013593', genre: 'FICTION', authors: [{ displayName: 'Frank Herbert', birthYear: 1920 }] });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { name: 'shelves/s2/books/b1', title: 'Dune', isbn: '9780441013593', genre: 'FICTION', authors: [{ displayName: 'Frank Herbert', birthYear: 1920 }] });
  });

  test('bad input is a 400 with a precise message: unknown field, wrong type, malformed JSON', async () => {
    const unknown = await call(gw, 'POST', '/v1/shelves/s2/books', { titel: 'x' });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.json.code, 'invalid_argument');
    assert.match(unknown.json.detail, /unknown field "titel"/);
    const wrong = await call(gw, 'POST', '/v1/shelves/s2/books', { authors: [{ birthYear: 'abc' }] });
    assert.equal(wrong.status, 400);
    assert.match(wrong.json.detail, /birth_year: expected a 32-bit integer, got "abc"/);
    const malformed = await call(gw, 'POST', '/v1/shelves/s2/books', '{"title": ');
    assert.equal(malformed.status, 400);
    assert.match(malformed.json.detail, /malformed JSON body/);
  });

  test('query parameters (repeated, nested) and response_body', async () => {
    const r = await call(gw, 'GET', '/v1/books:search?query=dune&genres=FICTION&genres=SCIENCE&filter.genre=HISTORY&pageSize=5');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, [{ name: 'found/0', title: 'dune', genre: 'FICTION' }, { name: 'found/1', title: 'dune', genre: 'SCIENCE' }]);
    const bad = await call(gw, 'GET', '/v1/books:search?nope=1');
    assert.equal(bad.status, 400);
  });

  test('server streaming comes out as NDJSON; a stream that fails midway ends with an error line', async () => {
    const r = await call(gw, 'GET', '/v1/shelves/s3/books:stream?limit=3');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/x-ndjson');
    assert.deepEqual(r.text.trim().split('\n').map((l) => JSON.parse(l)), [0, 1, 2].map((i) => ({ name: `shelves/s3/books/${i}`, isbn: String(1000 + i) })));
    const broken = await call(gw, 'GET', '/v1/shelves/broken/books:stream?limit=2');
    const lines = broken.text.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.equal(lines[2].error.status, 500);
    assert.equal(lines[2].error.message, 'disk on fire');
  });

  test('config routes for methods without annotations; allowlisted headers become metadata', async () => {
    const r = await call(gw, 'POST', '/v1/echo', { text: 'hi', n: '12345678901234', payload: 'AQID' }, { 'x-user-id': 'u7', 'x-secret': 'no' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json, { text: 'hi', n: '12345678901234', payload: 'AQID' });
    assert.equal(srv.lastMetadata['x-user-id'], 'u7');
    assert.equal(srv.lastMetadata['x-secret'], undefined);
  });

  test('the request id and X-Forwarded-* always travel as metadata; an untrusted client cannot spoof them', async () => {
    const spoof = { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'evil.example', 'x-request-id': 'rid-abc' };
    const r = await request(gw.base + '/v1/echo', { method: 'POST', body: '{"text":"f"}', headers: { 'content-type': 'application/json', ...spoof } });
    await r.body.text();
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['x-request-id'], 'rid-abc');
    assert.equal(srv.lastMetadata['x-request-id'], 'rid-abc');
    assert.equal(srv.lastMetadata['x-forwarded-for'], '127.0.0.1');
    assert.equal(srv.lastMetadata['x-forwarded-proto'], 'http');
    assert.equal(srv.lastMetadata['x-forwarded-host'], `127.0.0.1:${gw.port}`);
    // A generated request id is the one the client gets back.
    const gen = await request(gw.base + '/v1/echo', { method: 'POST', body: '{"text":"g"}', headers: { 'content-type': 'application/json' } });
    await gen.body.text();
    assert.match(String(gen.headers['x-request-id']), /.+/);
    assert.equal(srv.lastMetadata['x-request-id'], gen.headers['x-request-id']);
    // Allowlisting the names does not let the client's values through.
    const wide = await startGateway(yaml(srv.port).replace('metadata: [ x-user-id ]', 'metadata: [ x-user-id, "x-forwarded-*", x-request-id ]'));
    try {
      const w = await request(wide.base + '/v1/echo', { method: 'POST', body: '{"text":"w"}', headers: { 'content-type': 'application/json', ...spoof } });
      await w.body.text();
      assert.equal(w.statusCode, 200);
      assert.equal(srv.lastMetadata['x-forwarded-for'], '127.0.0.1');
      assert.equal(srv.lastMetadata['x-forwarded-proto'], 'http');
      assert.equal(srv.lastMetadata['x-forwarded-host'], `127.0.0.1:${wide.port}`);
      assert.equal(srv.lastMetadata['x-request-id'], 'rid-abc');
    } finally {
      await wide.close();
    }
  });

  test('from a trusted proxy the X-Forwarded-* chain is kept and the peer appended, as for HTTP upstreams', async () => {
    const trusted = await startGateway(yaml(srv.port).replace('server: { workers: 1 }', 'server: { workers: 1, trustedProxies: [ 127.0.0.1 ] }'));
    try {
      const r = await request(trusted.base + '/v1/echo', {
        method: 'POST', body: '{"text":"t"}',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'edge.example' },
      });
      await r.body.text();
      assert.equal(r.statusCode, 200);
      assert.equal(srv.lastMetadata['x-forwarded-for'], '6.6.6.6, 127.0.0.1');
      assert.equal(srv.lastMetadata['x-forwarded-proto'], 'https');
      assert.equal(srv.lastMetadata['x-forwarded-host'], 'edge.example');
      assert.equal(srv.lastMetadata['x-request-id'], r.headers['x-request-id']);
    } finally {
      await trusted.close();
    }
  });

  test('the route timeout is the gRPC deadline: a slow method gets 504', async () => {
    const r = await call(gw, 'GET', '/v1/books/slow');
    assert.equal(r.status, 504);
    assert.equal(r.json.code, 'grpc_deadline_exceeded');
  });

  test('json-array streaming, unknownFields: ignore, and response metadata as grpc-metadata-* headers', async () => {
    const alt = await startGateway(yaml(srv.port).replace('    timeout: 500ms', '    timeout: 500ms\n    streaming: json-array\n    unknownFields: ignore\n    responseHeaders: [ x-served-by ]'));
    try {
      const r = await call(alt, 'GET', '/v1/shelves/s4/books:stream?limit=2');
      assert.equal(r.status, 200);
      assert.equal(r.type, 'application/json');
      assert.deepEqual(r.json, [{ name: 'shelves/s4/books/0', isbn: '1000' }, { name: 'shelves/s4/books/1', isbn: '1001' }]);
      const empty = await call(alt, 'GET', '/v1/shelves/empty/books:stream');
      assert.deepEqual(empty.json, []);
      const lenient = await call(alt, 'POST', '/v1/shelves/s2/books?nope=1', { titel: 'x', title: 'ok' });
      assert.equal(lenient.status, 200, lenient.text);
      assert.equal(lenient.json.title, 'ok');
      const echo = await request(alt.base + '/v1/echo', { method: 'POST', body: '{"text":"m"}', headers: { 'content-type': 'application/json' } });
      await echo.body.text();
      assert.equal(echo.headers['grpc-metadata-x-served-by'], 'library-1');
    } finally {
      await alt.close();
    }
  });

  test('a dead gRPC upstream gives 503', async () => {
    const dead = await startGateway(yaml(await deadPort()));
    try {
      const r = await call(dead, 'GET', '/v1/shelves/s1');
      assert.equal(r.status, 503);
      assert.equal(r.json.code, 'grpc_unavailable');
    } finally {
      await dead.close();
    }
  });
});
