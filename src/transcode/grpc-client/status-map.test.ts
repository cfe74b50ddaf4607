import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GrpcClientError } from './grpc-client-error.js';
import { decodeGrpcMessage, encodeGrpcTimeout } from './grpc-wire.js';
import {
  GrpcCode, grpcCodeName, grpcStatusFromHttp, headersFromTrailers, httpStatusFromGrpc, metadataFromHeaders,
  metadataToHeaders,
} from './status-map.js';

test('gRPC code → HTTP status follows google.rpc.Code', () => {
  const expected: Record<string, number> = {
    OK: 200, CANCELLED: 499, UNKNOWN: 500, INVALID_ARGUMENT: 400, DEADLINE_EXCEEDED: 504, NOT_FOUND: 404,
    ALREADY_EXISTS: 409, PERMISSION_DENIED: 403, RESOURCE_EXHAUSTED: 429, FAILED_PRECONDITION: 400, ABORTED: 409,
    OUT_OF_RANGE: 400, UNIMPLEMENTED: 501, INTERNAL: 500, UNAVAILABLE: 503, DATA_LOSS: 500, UNAUTHENTICATED: 401,
  };
  for (const [name, code] of Object.entries(GrpcCode)) {
    assert.equal(httpStatusFromGrpc(code), expected[name], name);
    assert.equal(grpcCodeName(code), name);
  }
  assert.equal(httpStatusFromGrpc(42), 500);
  assert.equal(grpcCodeName(42), 'UNKNOWN');
});

test('HTTP status of a non-gRPC response → gRPC code as gRPC clients map it', () => {
  assert.equal(grpcStatusFromHttp(400), GrpcCode.INTERNAL);
  assert.equal(grpcStatusFromHttp(401), GrpcCode.UNAUTHENTICATED);
  assert.equal(grpcStatusFromHttp(403), GrpcCode.PERMISSION_DENIED);
  assert.equal(grpcStatusFromHttp(404), GrpcCode.UNIMPLEMENTED);
  for (const s of [429, 502, 503, 504]) assert.equal(grpcStatusFromHttp(s), GrpcCode.UNAVAILABLE);
  assert.equal(grpcStatusFromHttp(500), GrpcCode.UNKNOWN);
});

test('metadataFromHeaders keeps allowlisted names, drops reserved ones, handles -bin', () => {
  const md = metadataFromHeaders({
    'X-Tenant': 'acme', 'x-other': 'no', authorization: 'Bearer t', 'grpc-timeout': '1S', connection: 'close',
    'x-trace-bin': 'AAEC/w', 'x-multi': ['a', 'b'], 'x-team-a': '1', host: 'example.com', 'user-agent': 'curl',
  }, ['x-tenant', 'authorization', 'grpc-timeout', 'connection', 'x-trace-bin', 'x-multi', 'x-team-*', 'host', 'user-agent']);
  assert.deepEqual(md, [
    ['x-tenant', 'acme'], ['authorization', 'Bearer t'], ['x-trace-bin', 'AAEC/w=='],
    ['x-multi', 'a'], ['x-multi', 'b'], ['x-team-a', '1'],
  ]);
  // name/value pairs (as the gateway's request context holds them)
  assert.deepEqual(metadataFromHeaders([['x-a', '1'], ['x-a', '2'], ['x-b-bin', 'AQ==,Ag']], ['x-a', 'x-b-bin']),
    [['x-a', '1'], ['x-a', '2'], ['x-b-bin', 'AQ=='], ['x-b-bin', 'Ag==']]);
});

test('metadataFromHeaders rejects values gRPC cannot carry', () => {
  assert.throws(() => metadataFromHeaders({ 'x-trace-bin': 'not base64!' }, ['x-trace-bin']),
    (err: unknown) => err instanceof GrpcClientError && err.code === 'invalid_metadata' && /x-trace-bin/.test(err.message));
  assert.throws(() => metadataFromHeaders({ 'x-name': 'caf\u00e9' }, ['x-name']),
    (err: unknown) => err instanceof GrpcClientError && /printable ASCII/.test(err.message));
});

test('metadataToHeaders validates names and encodes binary values', () => {
  assert.deepEqual(metadataToHeaders([['X-A', '1'], ['x-a', '2'], ['x-b-bin', new Uint8Array([255, 0])]]),
    { 'x-a': ['1', '2'], 'x-b-bin': '/wA=' });
  for (const bad of ['grpc-status', ':path', 'content-type', 'x y']) {
    assert.throws(() => metadataToHeaders([[bad, 'v']]), (err: unknown) => err instanceof GrpcClientError && err.code === 'invalid_metadata');
  }
  assert.throws(() => metadataToHeaders([['x-text', new Uint8Array([1])]]), /does not end in -bin/);
});

test('headersFromTrailers maps allowlisted metadata back, optionally prefixed', () => {
  const trailers = {
    'grpc-status': '0', 'grpc-message': '', 'grpc-status-details-bin': 'AA', 'x-resp-trailer': 't1',
    'x-internal': 'secret', 'content-type': 'application/grpc', 'x-resp-bin': 'AAEC/w==',
  };
  const allow = ['x-resp-*', 'grpc-status', 'content-type'];
  assert.deepEqual(headersFromTrailers(trailers, allow), { 'x-resp-trailer': 't1', 'x-resp-bin': 'AAEC/w==' });
  assert.deepEqual(headersFromTrailers(trailers, allow, 'grpc-trailer-'),
    { 'grpc-trailer-x-resp-trailer': 't1', 'grpc-trailer-x-resp-bin': 'AAEC/w==' });
});

test('grpc-timeout uses the most precise unit that fits 8 digits', () => {
  assert.equal(encodeGrpcTimeout(5000), '5000m');
  assert.equal(encodeGrpcTimeout(1.2), '2m');
  assert.equal(encodeGrpcTimeout(99_999_999), '99999999m');
  assert.equal(encodeGrpcTimeout(100_000_000), '100000S');
  assert.equal(encodeGrpcTimeout(200_000_000_000), '3333334M');
});

test('grpc-message is percent-decoded, malformed escapes kept', () => {
  assert.equal(decodeGrpcMessage('book%20%E2%9C%93 missing'), 'book \u2713 missing');
  assert.equal(decodeGrpcMessage('100%'), '100%');
  assert.equal(decodeGrpcMessage('plain'), 'plain');
});
