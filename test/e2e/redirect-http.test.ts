// server.redirectHttp end to end: the plain listener next to the TLS one
// answers 308 to https on the TLS port, and 400 problem+json for a Host it
// cannot safely redirect to.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { us_listen_socket } from 'uWebSockets.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { loadUws } from '../../src/platform/uws-loader.js';
import { createRedirectApp } from '../../src/tls/redirect-listener.js';
import { standardPki, type TestPki } from '../../src/tls/testing/test-pki.js';
import { configFromYaml, nodeRequest, rawRequest, startUpstream, type TestUpstream } from './helpers.js';
import { tlsRequest } from './tls-helpers.js';

describe('server.redirectHttp', () => {
  let pki: TestPki;
  let up: TestUpstream;
  let gw: GatewayWorker;
  let port: number;
  before(async () => {
    pki = standardPki();
    up = await startUpstream('u');
    const config = configFromYaml(`
server:
  tls: { cert: ${pki.file('server.crt')}, key: ${pki.file('server.key')} }
  redirectHttp: 8081
upstreams: { u: { targets: [ { url: "${up.url}" } ] } }
routes: [ { name: all, match: { path: /* }, upstream: u } ]
`);
    config.server.redirectHttp = 0; // an ephemeral port, like server.port in configFromYaml
    gw = await startWorker(config);
    port = gw.redirectPort!;
  });
  after(async () => {
    await gw?.drain(500);
    await up?.close();
    pki?.cleanup();
  });

  test('every method gets 308 to https on the TLS port, same host (port dropped), path and query; nothing goes upstream', async () => {
    const get = await nodeRequest(port, '/a/b?x=1&y=%20', { host: 'www.example.com:8081' });
    assert.equal(get.status, 308);
    assert.equal(get.headers.location, `https://www.example.com:${gw.port}/a/b?x=1&y=%20`);
    const post = await nodeRequest(port, '/submit', { host: 'LocalHost', 'content-type': 'text/plain' }, 'POST', 'body');
    assert.equal(post.status, 308, 'POST keeps its method and body with 308');
    assert.equal(post.headers.location, `https://localhost:${gw.port}/submit`);
    const v6 = await nodeRequest(port, '/', { host: '[::1]:8081' });
    assert.equal(v6.headers.location, `https://[::1]:${gw.port}/`);
    const ip = await nodeRequest(port, '/', { host: '127.0.0.1' });
    assert.equal(ip.headers.location, `https://127.0.0.1:${gw.port}/`);
    assert.equal(up.seen.length, 0);
    // The redirect target serves.
    const r = await tlsRequest(pki, gw.port, '/a/b?x=1');
    assert.equal(r.status, 200);
  });

  test('a missing or crafted Host gets 400 problem+json, never a redirect elsewhere', async () => {
    // A request with no Host line at all never reaches the handler: uWS answers its own 400 (HTTP/1.1 requires Host).
    const missing = await rawRequest(port, 'GET /x HTTP/1.1\r\nConnection: close\r\n\r\n');
    assert.match(missing, /^HTTP\/1\.1 400 /, missing);
    assert.doesNotMatch(missing, /location:/i);
    const empty = await rawRequest(port, 'GET /x HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n');
    assert.match(empty, /^HTTP\/1\.1 400 /, empty);
    assert.match(empty, /content-type: application\/problem\+json/i);
    assert.match(empty, /"code":"bad_request"/);
    for (const host of ['evil.example/x', 'evil.example@good.example', 'a\\b', 'good.example:80/evil', 'good.example:x', '[::1', 'a b', 'ex%41mple.com', '-bad.example']) {
      const r = await rawRequest(port, `GET /x HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      assert.match(r, /^HTTP\/1\.1 400 /, `Host: ${host}\n${r}`);
      assert.doesNotMatch(r, /location:/i, host);
    }
    const absolute = await rawRequest(port, 'GET http://evil.example/x HTTP/1.1\r\nHost: good.example\r\nConnection: close\r\n\r\n');
    assert.doesNotMatch(absolute, /location: https:\/\/evil/i);
  });
});

test('the redirect leaves out the port when the TLS listener is on 443', async () => {
  const uws = loadUws();
  const app = createRedirectApp(uws, 443);
  const socket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen('127.0.0.1', 0, (s) => (s === false ? reject(new Error('cannot listen')) : resolve(s)));
  });
  try {
    const r = await nodeRequest(uws.us_socket_local_port(socket as never), '/p?q', { host: 'api.example.com:80' });
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, 'https://api.example.com/p?q');
  } finally {
    uws.us_listen_socket_close(socket);
    app.close();
  }
});
