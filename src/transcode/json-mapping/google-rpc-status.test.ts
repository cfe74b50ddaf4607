import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { decodeGrpcStatusDetails, encodeGrpcStatusDetails, googleRpcRoot } from './google-rpc-status.js';
import { JsonMappingError } from './json-mapping-error.js';
import { loadLibraryRoot } from './json-mapping-samples.js';

const root = loadLibraryRoot();
const G = 'type.googleapis.com/google.rpc.';
const STATUS = {
  code: 3,
  message: 'book is invalid',
  details: [
    { '@type': `${G}BadRequest`, fieldViolations: [{ field: 'book.isbn', description: 'not an integer', reason: 'BAD_ISBN' }] },
    { '@type': `${G}ErrorInfo`, reason: 'INVALID_BOOK', domain: 'library.example.com', metadata: { shelf: 's1' } },
    { '@type': `${G}RetryInfo`, retryDelay: '1.500s' },
    { '@type': `${G}Help`, links: [{ description: 'docs', url: 'https://example.com/docs' }] },
    { '@type': `${G}LocalizedMessage`, locale: 'fr-FR', message: 'livre invalide' },
    { '@type': 'type.googleapis.com/google.protobuf.StringValue', value: 'wkt detail' },
    { '@type': 'type.googleapis.com/example.library.v1.Author', displayName: 'service type', birthYear: 1 },
  ],
};

const bin = Buffer.from(encodeGrpcStatusDetails(STATUS, root));
// An Any of a type nobody knows, spliced in with raw bytes.
const Status = googleRpcRoot().lookupType('google.rpc.Status');
const unknownDetail = Buffer.from(Status.encode({
  code: 5, message: 'gone', details: [{ type_url: 'type.googleapis.com/acme.Secret', value: Buffer.from([8, 150, 1]) }],
}).finish());

let server: grpc.Server;
let client: grpc.Client;

before(async () => {
  server = new grpc.Server();
  const passThrough = (b: Buffer): Buffer => b;
  const method = { path: '/example.library.v1.LibraryService/Echo', requestStream: false, responseStream: false,
    requestSerialize: passThrough, requestDeserialize: passThrough, responseSerialize: passThrough, responseDeserialize: passThrough };
  server.addService({ Echo: method }, {
    Echo(call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) {
      const which = call.metadata.get('which')[0];
      const md = new grpc.Metadata();
      md.set('grpc-status-details-bin', which === 'unknown' ? unknownDetail : bin);
      cb({ code: which === 'unknown' ? grpc.status.NOT_FOUND : grpc.status.INVALID_ARGUMENT, details: 'from server', metadata: md });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p)));
  });
  client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});

after(() => {
  client?.close();
  server?.forceShutdown();
});

function callForDetails(which: string): Promise<grpc.ServiceError> {
  const md = new grpc.Metadata();
  md.set('which', which);
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest('/example.library.v1.LibraryService/Echo', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), md,
      (err) => (err ? resolve(err) : reject(new Error('expected an error'))));
  });
}

test('grpc-status-details-bin from a real gRPC server decodes with every detail resolved', async () => {
  const err = await callForDetails('known');
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  const raw = err.metadata.get('grpc-status-details-bin')[0] as Buffer;
  const json = decodeGrpcStatusDetails(raw, root);
  assert.deepStrictEqual(json, STATUS);
  // The HTTP/2 trailer text form (unpadded base64) decodes the same.
  assert.deepStrictEqual(decodeGrpcStatusDetails(raw.toString('base64').replace(/=+$/, ''), root), STATUS);
  // Without the service root, the service's own type stays unresolved but is kept.
  const noRoot = decodeGrpcStatusDetails(raw);
  assert.deepStrictEqual(noRoot.details.slice(0, 6), STATUS.details.slice(0, 6));
  const last = noRoot.details[6] as Record<string, string>;
  assert.equal(last['@type'], 'type.googleapis.com/example.library.v1.Author');
  assert.match(last.value, /^[A-Za-z0-9+/]+=*$/);
});

test('unknown detail types come back as @type + base64 value', async () => {
  const err = await callForDetails('unknown');
  assert.equal(err.code, grpc.status.NOT_FOUND);
  const json = decodeGrpcStatusDetails(err.metadata.get('grpc-status-details-bin')[0] as Buffer, root);
  assert.deepStrictEqual(json, { code: 5, message: 'gone', details: [{ '@type': 'type.googleapis.com/acme.Secret', value: 'CJYB' }] });
});

test('malformed details and unresolvable detail types are JsonMappingErrors', () => {
  assert.throws(() => decodeGrpcStatusDetails(new Uint8Array([0x12, 0x09, 0x41])), (err: unknown) => {
    assert.ok(err instanceof JsonMappingError && err.code === 'internal', String(err));
    assert.match(err.message, /^grpc-status-details-bin: not a google\.rpc\.Status: /);
    return true;
  });
  assert.throws(() => encodeGrpcStatusDetails({ code: 1, message: '', details: [{ '@type': 'x/acme.Nope' }] }),
    { message: 'status.details[0]: cannot resolve Any type "x/acme.Nope"', code: 'invalid_argument' });
});
