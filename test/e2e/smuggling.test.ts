import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLOSING_BODY_BYTES } from '../../src/ingress/closing-problem.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from './helpers.js';
import { parseResponses, rawExchange, type RawExchange } from './raw-http.js';

/** The request an attacker hides behind a malformed one. */
const SMUGGLED = 'GET /echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n';

function post(headers: string, body: string): string {
  return 'POST /echo/v HTTP/1.1\r\nHost: x\r\n' + headers + '\r\n' + body;
}

/** Framing errors the gateway itself detects: each is followed by SMUGGLED in the same write. */
const GATEWAY_REJECTS: Array<[string, string]> = [
  ['two different Content-Length lines (0, 45)', post('Content-Length: 0\r\nContent-Length: 45\r\n', SMUGGLED)],
  ['two identical Content-Length lines (5, 5): rejected, not merged', post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello' + SMUGGLED)],
  ['Content-Length list "5, 5"', post('Content-Length: 5, 5\r\n', 'hello' + SMUGGLED)],
  ['Content-Length "+5"', post('Content-Length: +5\r\n', 'hello' + SMUGGLED)],
  ['Content-Length "-1"', post('Content-Length: -1\r\n', 'h' + SMUGGLED)],
  ['Content-Length "5x"', post('Content-Length: 5x\r\n', 'hello' + SMUGGLED)],
  ['Content-Length "0x5"', post('Content-Length: 0x5\r\n', 'hello' + SMUGGLED)],
  ['Content-Length of 20 digits', post('Content-Length: 99999999999999999999\r\n', 'hello' + SMUGGLED)],
  ['empty Content-Length', post('Content-Length: \r\n', SMUGGLED)],
  ['Transfer-Encoding: xchunked', post('Transfer-Encoding: xchunked\r\n', '0\r\n\r\n' + SMUGGLED)],
  ['Transfer-Encoding: chunked, identity', post('Transfer-Encoding: chunked, identity\r\n', '0\r\n\r\n' + SMUGGLED)],
  ['Transfer-Encoding: gzip, chunked', post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n' + SMUGGLED)],
  ['two Transfer-Encoding lines (chunked, identity)', post('Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n', '0\r\n\r\n' + SMUGGLED)],
  ['two Transfer-Encoding lines (chunked, chunked)', post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n' + SMUGGLED)],
];

/** Refused by uWS's parser before or right after the handler: its own bare error page. */
const UWS_REJECTS: Array<[string, string, number]> = [
  ['CL.TE (Content-Length then Transfer-Encoding)', post('Content-Length: 6\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n' + SMUGGLED), 400],
  ['TE.CL (Transfer-Encoding then Content-Length)', post('Transfer-Encoding: chunked\r\nContent-Length: 3\r\n', '0\r\n\r\n' + SMUGGLED), 400],
  ['whitespace before the colon (Transfer-Encoding : chunked)', post('Transfer-Encoding : chunked\r\n', '0\r\n\r\n' + SMUGGLED), 400],
  ['whitespace before the colon (Content-Length : 5)', post('Content-Length : 5\r\n', 'hello' + SMUGGLED), 400],
  ['chunk size overflow (ffffffffffffffffff)', post('Transfer-Encoding: chunked\r\n', 'ffffffffffffffffff\r\nhello\r\n0\r\n\r\n' + SMUGGLED), 400],
  ['non-hex chunk size (zz)', post('Transfer-Encoding: chunked\r\n', 'zz\r\nhello\r\n0\r\n\r\n' + SMUGGLED), 400],
  ['chunked body with a trailer field (uWS has no trailer support)', post('Transfer-Encoding: chunked\r\n', '5\r\nhello\r\n0\r\nx-t: 1\r\n\r\n' + SMUGGLED), 505],
  ['bare LF line endings', 'GET /echo/lf HTTP/1.1\nHost: x\n\n' + SMUGGLED, 505],
  ['bare LF after a header line', 'GET /echo/lf HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n' + SMUGGLED, 400],
  ['obs-fold header continuation', 'GET /echo/fold HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n' + SMUGGLED, 400],
  ['HTTP/1.0 request line', 'GET /echo/old HTTP/1.0\r\nHost: x\r\n\r\n' + SMUGGLED, 505],
  ['no Host header', 'GET /echo/nohost HTTP/1.1\r\n\r\n' + SMUGGLED, 400],
  ['two Host headers', 'GET /echo/dh HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' + SMUGGLED, 400],
];

/** Valid after whitespace/case normalisation: forwarded once with a 5-byte body. */
const ACCEPTED: Array<[string, string]> = [
  ['Transfer-Encoding:<TAB>chunked', post('Transfer-Encoding:\tchunked\r\n', '5\r\nhello\r\n0\r\n\r\n')],
  ['mixed-case Transfer-Encoding name and value', post('tRaNsFeR-eNcOdInG: ChUnKeD\r\n', '5\r\nhello\r\n0\r\n\r\n')],
  ['Content-Length with surrounding whitespace', post('Content-Length:  5 \r\n', 'hello')],
];

describe('request smuggling and pipelining at the ingress (raw bytes, real upstream)', () => {
  let echo: TestUpstream; let gw: TestGateway;

  before(async () => {
    echo = await startUpstream('echo');
    gw = await startGateway(`
server: { maxBodySize: 1kb }
upstreams:
  echo: { targets: [ { url: "${echo.url}" } ] }
routes:
  - { name: echo, match: { path: /echo/* }, upstream: echo }
`);
  });
  after(async () => { await gw?.close(); await echo?.close(); });

  /** Sends raw parts, then waits for anything the gateway might still forward; returns the reply and what reached the upstream. */
  async function send(parts: string | string[], ms?: number, gapMs?: number): Promise<{ reply: RawExchange; forwarded: string[] }> {
    const mark = echo.seen.length;
    const reply = await rawExchange(gw.port, parts, ms, gapMs);
    await sleep(100);
    return { reply, forwarded: echo.seen.slice(mark).map((s) => `${s.method} ${s.url} ${s.bodyBytes}`) };
  }

  /**
   * One complete problem+json answer with the given status and Connection:
   * close, then the server closed. Answers to broken framing are padded
   * (closing-problem.ts), the others are not.
   */
  function assertClosingProblem(reply: RawExchange, status: number, code: string, padded: boolean): void {
    const responses = parseResponses(reply.text);
    assert.equal(responses.length, 1, reply.text.slice(0, 300));
    const [r] = responses;
    assert.equal(r.status, status);
    assert.equal(r.headers['content-type'], 'application/problem+json');
    assert.equal(r.headers.connection, 'close');
    if (padded) assert.equal(r.body.length, CLOSING_BODY_BYTES, 'the whole padded body arrived');
    else assert.ok(r.body.length < 1000 && r.body.endsWith('}'), 'an unpadded body');
    assert.equal((JSON.parse(r.body) as { code: string }).code, code);
    assert.ok(reply.closed, 'the gateway closed the connection');
  }

  for (const [name, raw] of GATEWAY_REJECTS) {
    test(`400 problem+json and close, nothing after forwarded: ${name}`, async () => {
      const { reply, forwarded } = await send(raw);
      assertClosingProblem(reply, 400, 'bad_request', true);
      assert.deepEqual(forwarded, []);
    });
  }

  for (const [name, raw, status] of UWS_REJECTS) {
    test(`uWS's own bare ${status} and close, nothing forwarded: ${name}`, async () => {
      const { reply, forwarded } = await send(raw);
      const responses = parseResponses(reply.text);
      assert.equal(responses.length, 1, reply.text);
      assert.equal(responses[0].status, status);
      assert.match(responses[0].body, /uWebSockets/);
      assert.ok(reply.closed);
      assert.deepEqual(forwarded, []);
    });
  }

  for (const [name, raw] of ACCEPTED) {
    test(`accepted and forwarded once: ${name}`, async () => {
      const { reply, forwarded } = await send(raw);
      const responses = parseResponses(reply.text);
      assert.deepEqual(responses.map((r) => r.status), [200]);
      assert.equal(reply.closed, false, 'keep-alive');
      assert.deepEqual(forwarded, ['POST /echo/v 5']);
    });
  }

  test('the smuggled request in a later packet on the same connection is not read either', async () => {
    const { reply, forwarded } = await send([post('Content-Length: 0\r\nContent-Length: 45\r\n', ''), SMUGGLED]);
    assertClosingProblem(reply, 400, 'bad_request', true);
    assert.deepEqual(forwarded, []);
  });

  test('413 for a Content-Length over maxBodySize: answered and closed after the read, the request behind the body never read', async () => {
    const { reply, forwarded } = await send([post('Content-Length: 2000\r\n', 'a'.repeat(2000)), SMUGGLED]);
    assertClosingProblem(reply, 413, 'payload_too_large', false);
    assert.deepEqual(forwarded, []);
  });

  test('413 for a Content-Length over maxBodySize with a request behind the body in the same write: closed unanswered, nothing forwarded', async () => {
    const { reply, forwarded } = await send(post('Content-Length: 2000\r\n', 'a'.repeat(2000) + SMUGGLED));
    assert.equal(reply.text, '');
    assert.ok(reply.closed);
    assert.deepEqual(forwarded, []);
  });

  test('413 for a chunked body growing over maxBodySize: answered and closed, the rest never read', async () => {
    const { reply, forwarded } = await send([post('Transfer-Encoding: chunked\r\n', '800\r\n' + 'a'.repeat(0x800)), '\r\n0\r\n\r\n' + SMUGGLED]);
    assertClosingProblem(reply, 413, 'payload_too_large', false);
    assert.ok(!forwarded.some((f) => f.includes('smuggled')), forwarded.join());
  });

  test('HEAD with a framing error and a request behind it: closed unanswered, nothing forwarded', async () => {
    const { reply, forwarded } = await send('HEAD /echo/h HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n' + SMUGGLED);
    assert.equal(reply.text, '');
    assert.ok(reply.closed);
    assert.deepEqual(forwarded, []);
  });

  test('HEAD with a framing error alone: 400 head with Connection: close, then closed', async () => {
    const { reply, forwarded } = await send('HEAD /echo/h HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\n');
    assert.match(reply.text, /^HTTP\/1\.1 400 /);
    assert.match(reply.text, /\r\nConnection: close\r\n/i);
    assert.match(reply.text, /\r\nContent-Length: [1-9]\d*\r\n\r\n$/, 'a head only');
    assert.ok(reply.closed);
    assert.deepEqual(forwarded, []);
  });

  // uWS's chunked decoder is lenient (ChunkedEncoding.h); the gateway only sees
  // decoded data and cannot tell. Pinned so that a uWS upgrade shows up here.
  test('uWS leniency: chunk size "1g" is read as 0x20 and forwarded', async () => {
    const { reply, forwarded } = await send(post('Transfer-Encoding: chunked\r\n', '1g\r\n' + 'a'.repeat(0x20) + '\r\n0\r\n\r\n'));
    assert.deepEqual(parseResponses(reply.text).map((r) => r.status), [200]);
    assert.deepEqual(forwarded, ['POST /echo/v 32']);
  });

  test('uWS leniency: any two bytes are taken for the CRLF after chunk data', async () => {
    const { reply, forwarded } = await send(post('Transfer-Encoding: chunked\r\n', '5\r\nhelloXX0\r\n\r\n'));
    assert.deepEqual(parseResponses(reply.text).map((r) => r.status), [200]);
    assert.deepEqual(forwarded, ['POST /echo/v 5']);
  });

  test('uWS leniency: a chunk extension is read as size digits, so what follows is swallowed as body', async () => {
    const { reply, forwarded } = await send(post('Transfer-Encoding: chunked\r\n', '5;a=b\r\nhello\r\n0\r\n\r\n' + SMUGGLED));
    assert.equal(reply.text, '', 'still waiting for the (misread) 0x5badb-byte chunk');
    assert.equal(reply.closed, false);
    assert.deepEqual(forwarded, []);
  });

  // uWS closes a connection on which a request arrives while an earlier
  // response is pending (HttpContext.h: "denying async pipelining"), before
  // the handler sees it; the earlier request gets onAborted. Proxied
  // requests are always pending when the next one is parsed.
  test('pipelined proxied GETs (2 and 3 in one write): uWS closes the connection, nothing answered or forwarded', async () => {
    for (const n of [2, 3]) {
      let raw = '';
      for (let i = 0; i < n; i++) raw += `GET /echo/p${i} HTTP/1.1\r\nHost: x\r\n\r\n`;
      const { reply, forwarded } = await send(raw);
      assert.equal(reply.text, '');
      assert.ok(reply.closed);
      assert.deepEqual(forwarded, [], 'the aborted first request was never dispatched');
    }
  });

  test('pipelined POST with a body, then GET: uWS closes the connection, nothing answered or forwarded', async () => {
    const { reply, forwarded } = await send(post('Content-Length: 5\r\n', 'hello') + 'GET /echo/b HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(reply.text, '');
    assert.ok(reply.closed);
    assert.deepEqual(forwarded, [], 'the POST was never dispatched');
  });

  test('pipelined requests answered by the gateway itself come back in order before a proxied one', async () => {
    const raw = 'GET /nope/1 HTTP/1.1\r\nHost: x\r\n\r\nDELETE /nope/2 HTTP/1.1\r\nHost: x\r\n\r\nGET /echo/last HTTP/1.1\r\nHost: x\r\n\r\n';
    const { reply, forwarded } = await send(raw);
    const responses = parseResponses(reply.text);
    assert.deepEqual(responses.map((r) => r.status), [404, 404, 200]);
    assert.equal((JSON.parse(responses[0].body) as { instance: string }).instance, '/nope/1');
    assert.equal((JSON.parse(responses[1].body) as { instance: string }).instance, '/nope/2');
    assert.equal((JSON.parse(responses[2].body) as { url: string }).url, '/echo/last');
    assert.equal(reply.closed, false);
    assert.deepEqual(forwarded, ['GET /echo/last 0']);
  });

  test('sequential keep-alive requests on one connection are all answered in order', async () => {
    const parts = [0, 1, 2].map((i) => `GET /echo/k${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
    const { reply, forwarded } = await send(parts, 400, 150);
    const responses = parseResponses(reply.text);
    assert.deepEqual(responses.map((r) => (JSON.parse(r.body) as { url: string }).url), ['/echo/k0', '/echo/k1', '/echo/k2']);
    assert.equal(reply.closed, false);
    assert.deepEqual(forwarded, ['GET /echo/k0 0', 'GET /echo/k1 0', 'GET /echo/k2 0']);
  });
});
