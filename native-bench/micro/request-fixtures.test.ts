import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { HttpResponse, us_listen_socket } from 'uWebSockets.js';
import { readRequest, RequestContext } from '../../src/ingress/request-context.js';
import { RequestIdGenerator } from '../../src/ingress/request-id.js';
import { TrustedProxies } from '../../src/ingress/trusted-proxies.js';
import { loadUws } from '../../src/platform/uws-loader.js';
import {
  BROWSER_CLIENT_IP, BROWSER_REQUEST, contextFor, CURL_REQUEST, fillFromRecorded, TRUSTED_PROXY_IP, type RecordedRequest,
} from './request-fixtures.js';

/** A POST exercising the Content-Length and X-Request-Id branches of the collector. */
const POST_REQUEST: RecordedRequest = {
  method: 'POST',
  url: '/v1/orders',
  query: '',
  headers: [['host', 'api.example.com:8443'], ['content-type', 'application/json'], ['content-length', '2'], ['x-request-id', 'abc-123']],
  peer: '198.51.100.1',
};

function fields(ctx: RequestContext): unknown {
  return {
    method: ctx.method, path: ctx.path, query: ctx.query, rawHost: ctx.rawHost, names: ctx.headerNames, values: ctx.headerValues,
    headerBytes: ctx.headerBytes, connection: ctx.connection, requestIdIn: ctx.requestIdIn,
    contentLength: ctx.contentLength, transferEncoding: ctx.transferEncoding,
  };
}

function wire(rec: RecordedRequest): string {
  const body = rec.method === 'POST' ? '{}' : '';
  return `${rec.method} ${rec.url}${rec.query === '' ? '' : '?' + rec.query} HTTP/1.1\r\n`
    + rec.headers.map(([n, v]) => `${n}: ${v}\r\n`).join('') + '\r\n' + body;
}

test('fillFromRecorded gives the same context fields as readRequest on a real uWS request', async () => {
  const uws = loadUws();
  const seen: RequestContext[] = [];
  const app = uws.App().any('/*', (res, req) => {
    const ctx = new RequestContext(res);
    readRequest(ctx, req);
    seen.push(ctx);
    res.onAborted(() => {});
    res.end('ok');
  });
  const ls = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('listen failed'))));
  });
  try {
    const port = uws.us_socket_local_port(ls);
    for (const rec of [BROWSER_REQUEST, CURL_REQUEST, POST_REQUEST]) {
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect(port, '127.0.0.1', () => sock.write(wire(rec)));
        let got = '';
        sock.on('data', (b) => { got += b.toString(); if (got.endsWith('ok')) { sock.destroy(); resolve(); } });
        sock.on('error', reject);
      });
      const ours = new RequestContext(null as unknown as HttpResponse);
      fillFromRecorded(ours, rec);
      assert.deepEqual(fields(ours), fields(seen[seen.length - 1]), rec.url);
    }
    assert.equal(seen.length, 3);
  } finally {
    uws.us_listen_socket_close(ls);
    app.close();
  }
});

test('contextFor resolves trust, client IP and request id as RequestHandler.route does', () => {
  const trusted = new TrustedProxies([TRUSTED_PROXY_IP + '/32']);
  const ids = new RequestIdGenerator('p');
  const browser = contextFor(BROWSER_REQUEST, trusted, ids);
  assert.deepEqual([browser.peerIp, browser.peerTrusted, browser.clientIp, browser.requestId], [TRUSTED_PROXY_IP, true, BROWSER_CLIENT_IP, 'p-1']);
  assert.equal(browser.headerNames.length, 13);
  const curl = contextFor(CURL_REQUEST, trusted, ids);
  assert.deepEqual([curl.peerTrusted, curl.clientIp, curl.requestId], [false, CURL_REQUEST.peer, 'p-2']);
  const post = contextFor(POST_REQUEST, trusted, ids);
  assert.deepEqual([post.requestId, post.contentLength, post.rawHost], ['abc-123', 2, 'api.example.com:8443']);
  const untrusting = contextFor(BROWSER_REQUEST, new TrustedProxies([]), ids);
  assert.deepEqual([untrusting.peerTrusted, untrusting.clientIp], [false, TRUSTED_PROXY_IP]);
});
