// Policies on transcoded routes: global policies run on the routes generated
// from gRPC bindings; responseHead edits and replaces a unary answer,
// responseBody sees its whole JSON body, an access policy's header becomes
// allowlisted metadata. A real @grpc/grpc-js LibraryService behind one worker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { ErrorCodes } from '../../src/errors/codes.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import type { PolicyInstance } from '../../src/policies/types.js';
import { testSpec, withTestKind } from './test-policy-kind.js';
import { configFromYaml } from './helpers.js';
import { startLibraryServer, type LibraryServer } from '../../loadtest/upstream/library-grpc-server.js';

const PROTOS = resolve('config/protos');
const LIBRARY = join(PROTOS, 'example/library/v1/library.proto');


const wrapBody: PolicyInstance = {
  name: 'test:wrap',
  access: (ctx) => { ctx.setHeader('x-user-id', 'from-policy'); return undefined; },
  responseHead: (ctx, head) => (ctx.path.endsWith('/refuse') ? new GatewayError(ErrorCodes.UPSTREAM_BAD_RESPONSE, 'refused by policy') : (head.headers.push('x-head', 'seen'), undefined)),
  responseBody: (_ctx, res) => Promise.resolve().then(() => { res.body = Buffer.from(`{"wrapped":${res.body.toString()}}`); return undefined; }),
};

describe('policies on transcoded routes', () => {
  let srv: LibraryServer;
  let gw: GatewayWorker;
  let base: string;
  before(async () => {
    srv = await startLibraryServer(LIBRARY, PROTOS);
    const config = configFromYaml(`
server: { workers: 1 }
upstreams:
  library: { targets: [ { url: "h2c://127.0.0.1:${srv.port}" } ], protocol: grpc }
policies:
  stamp: { headers: { response: { set: { x-served-by: turnpike } } } }
globalPolicies: [ stamp ]
grpc:
  - upstream: library
    protos: [ "${LIBRARY}" ]
    includeDirs: [ "${PROTOS}" ]
    services: [ example.library.v1.LibraryService ]
    routes: [ { rpc: example.library.v1.LibraryService/Echo, method: POST, path: /v1/echo, body: "*" }, { rpc: example.library.v1.LibraryService/Echo, method: POST, path: /v1/echo/refuse, body: "*" } ]
    metadata: [ x-user-id ]
`);
    for (const r of config.routes) r.policies = [testSpec('wrap', wrapBody)];
    gw = await startWorker(config, { policyFactories: withTestKind() });
    base = `http://127.0.0.1:${gw.port}`;
  });
  after(async () => { await gw?.drain(500); await srv?.stop(); });

  test('a unary answer: access header as metadata, global and route responseHead edits, responseBody wraps the JSON', async () => {
    const r = await request(base + '/v1/echo', { method: 'POST', headers: { 'content-type': 'application/json', 'x-user-id': 'client' }, body: JSON.stringify({ text: 'hi' }) });
    const text = await r.body.text();
    assert.equal(r.statusCode, 200, text);
    assert.equal(r.headers['x-served-by'], 'turnpike');
    assert.equal(r.headers['x-head'], 'seen');
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(text)));
    const body = JSON.parse(text) as { wrapped: { text: string } };
    assert.equal(body.wrapped.text, 'hi');
    assert.equal(srv.lastMetadata['x-user-id'], 'from-policy');
  });

  test('a responseHead replacement answers instead of the gRPC result', async () => {
    const r = await request(base + '/v1/echo/refuse', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"x"}' });
    const text = await r.body.text();
    assert.equal(r.statusCode, 502, text);
    assert.equal((JSON.parse(text) as { detail: string }).detail, 'refused by policy');
    assert.equal(r.headers['x-served-by'], 'turnpike', 'the problem still gets the response edits');
  });

  test('a gRPC error is a problem with the response edits', async () => {
    const r = await request(base + '/v1/shelves/missing');
    await r.body.text();
    assert.equal(r.statusCode, 404);
    assert.equal(r.headers['x-served-by'], 'turnpike');
  });
});
