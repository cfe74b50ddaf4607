// Misbehaving or unusual peers, played by a real node:http2 h2c server.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { test } from 'node:test';
import { GrpcChannel } from './grpc-channel.js';
import { encodeFrame } from './grpc-frame.js';
import { prefix, startRawH2 } from './grpc-test-server.js';
import { GrpcCode } from './status-map.js';

const PATH = '/test.v1.Raw/Call';

function grpcRespond(stream: http2.ServerHttp2Stream, frames: Buffer[], trailers: http2.OutgoingHttpHeaders | null): void {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: trailers !== null });
  if (trailers !== null) stream.on('wantTrailers', () => stream.sendTrailers(trailers));
  for (const f of frames) stream.write(f);
  stream.end();
}

async function withServer(
  onStream: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void,
  body: (channel: GrpcChannel) => Promise<void>,
): Promise<void> {
  const server = await startRawH2(onStream);
  const channel = new GrpcChannel(`h2c://127.0.0.1:${server.port}`);
  try {
    await body(channel);
  } finally {
    channel.destroy();
    await server.close();
  }
}

test('non-200 or non-gRPC responses map like gRPC clients do', async () => {
  const answers: Record<string, [number, string]> = {
    '/a.S/Unavailable': [503, 'text/plain'], '/a.S/Missing': [404, 'text/html'],
    '/a.S/Html': [200, 'text/html'], '/a.S/Denied': [403, 'application/json'],
  };
  await withServer((stream, headers) => {
    const [status, type] = answers[String(headers[':path'])];
    stream.respond({ ':status': status, 'content-type': type });
    stream.end('<html>not gRPC, not framed: \u0000\u0000\u0000\u0000\u0001</html>');
  }, async (channel) => {
    const r503 = await channel.unary('/a.S/Unavailable', Buffer.alloc(0));
    assert.equal(r503.status, GrpcCode.UNAVAILABLE);
    assert.match(r503.message, /HTTP status 503/);
    assert.equal((await channel.unary('/a.S/Missing', Buffer.alloc(0))).status, GrpcCode.UNIMPLEMENTED);
    assert.equal((await channel.unary('/a.S/Denied', Buffer.alloc(0))).status, GrpcCode.PERMISSION_DENIED);
    const html = await channel.unary('/a.S/Html', Buffer.alloc(0));
    assert.equal(html.status, GrpcCode.UNKNOWN);
    assert.match(html.message, /non-gRPC response \(content-type text\/html\)/);
  });
});

test('request headers, trailers-only status, missing trailers, compressed frame', async () => {
  let seen: http2.IncomingHttpHeaders = {};
  await withServer((stream, headers) => {
    seen = headers;
    switch (headers[':path']) {
      case '/a.S/TrailersOnly':
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'no%20such%20book', 'x-k': 'v' }, { endStream: true });
        break;
      case '/a.S/NoTrailers': grpcRespond(stream, [encodeFrame(Buffer.from('x'))], null); break;
      case '/a.S/Compressed': grpcRespond(stream, [prefix(1, 3), Buffer.from('abc')], { 'grpc-status': '0' }); break;
      case '/a.S/Truncated': grpcRespond(stream, [prefix(0, 10), Buffer.from('abc')], { 'grpc-status': '0' }); break;
      default: grpcRespond(stream, [encodeFrame(Buffer.from('ok'))], { 'grpc-status': '0' });
    }
  }, async (channel) => {
    const ok = await channel.unary('/a.S/Ok', Buffer.from('req'), { deadlineMs: 5000, metadata: [['x-a', '1'], ['x-a', '2']] });
    assert.equal(ok.status, GrpcCode.OK);
    assert.equal(Buffer.from(ok.response!).toString(), 'ok');
    assert.equal(seen[':method'], 'POST');
    assert.equal(seen['content-type'], 'application/grpc');
    assert.equal(seen.te, 'trailers');
    assert.match(String(seen['grpc-timeout']), /^\d{1,8}m$/);
    assert.ok(Number.parseInt(String(seen['grpc-timeout']), 10) <= 5000);
    assert.match(String(seen['user-agent']), /^turnpike-grpc\//);
    assert.equal(seen['x-a'], '1, 2');

    const to = await channel.unary('/a.S/TrailersOnly', Buffer.alloc(0));
    assert.deepEqual([to.status, to.message, to.trailers['x-k'], to.response], [GrpcCode.NOT_FOUND, 'no such book', 'v', null]);
    const nt = await channel.unary('/a.S/NoTrailers', Buffer.alloc(0));
    assert.equal(nt.status, GrpcCode.INTERNAL);
    assert.match(nt.message, /without a grpc-status/);
    const comp = await channel.unary('/a.S/Compressed', Buffer.alloc(0));
    assert.equal(comp.status, GrpcCode.INTERNAL);
    assert.match(comp.message, /compressed/);
    const trunc = await channel.unary('/a.S/Truncated', Buffer.alloc(0));
    assert.equal(trunc.status, GrpcCode.INTERNAL);
    assert.match(trunc.message, /middle of a message/);
  });
});

test('local deadline resets a stream the server never answers', async () => {
  let rstCode = -1;
  await withServer((stream) => {
    stream.on('close', () => { rstCode = stream.rstCode; });
  }, async (channel) => {
    const t0 = Date.now();
    const r = await channel.unary(PATH, Buffer.alloc(0), { deadlineMs: 200 });
    assert.equal(r.status, GrpcCode.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - t0 >= 190 && Date.now() - t0 < 3000);
    for (let i = 0; i < 100 && rstCode === -1; i++) await new Promise((res) => setTimeout(res, 10));
    assert.equal(rstCode, http2.constants.NGHTTP2_CANCEL);
  });
});

test('frames split across DATA chunks are reassembled in a server stream', async () => {
  const messages = [Buffer.from('first'), Buffer.alloc(40_000, 9), Buffer.alloc(0), Buffer.from('last')];
  const wire = Buffer.concat(messages.map((m) => encodeFrame(m)));
  const cuts = [2, 5, 7, 12, 20_000, 40_011, 40_013, 40_015, wire.length];
  await withServer((stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
    void (async function writeInPieces(): Promise<void> {
      let from = 0;
      for (const to of cuts) {
        stream.write(wire.subarray(from, to));
        from = to;
        await new Promise((res) => setTimeout(res, 5)); // separate DATA frames
      }
      stream.end();
    })();
  }, async (channel) => {
    const call = channel.serverStream(PATH, Buffer.alloc(0));
    const got: Buffer[] = [];
    for await (const m of call) got.push(Buffer.from(m));
    assert.deepEqual(got, messages);
    assert.equal((await call.status).status, GrpcCode.OK);
  });
});

test('a refused stream is retried transparently; other resets map to a status', async () => {
  let streams = 0;
  await withServer((stream, headers) => {
    streams++;
    if (headers[':path'] === '/a.S/Calm') {
      stream.close(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    } else if (headers[':path'] === '/a.S/Reset') {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      stream.write(encodeFrame(Buffer.from('partial')));
      setTimeout(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR), 20);
    } else if (streams === 1) {
      stream.close(http2.constants.NGHTTP2_REFUSED_STREAM);
    } else {
      grpcRespond(stream, [encodeFrame(Buffer.from('second try'))], { 'grpc-status': '0' });
    }
  }, async (channel) => {
    const r = await channel.unary(PATH, Buffer.alloc(0));
    assert.equal(r.status, GrpcCode.OK, r.message);
    assert.equal(Buffer.from(r.response!).toString(), 'second try');
    assert.equal(streams, 2);
    const reset = await channel.unary('/a.S/Reset', Buffer.alloc(0));
    assert.equal(reset.status, GrpcCode.INTERNAL); // (node's server ends the stream before its RST: no code arrives)
    const calm = await channel.unary('/a.S/Calm', Buffer.alloc(0));
    assert.equal(calm.status, GrpcCode.RESOURCE_EXHAUSTED);
    assert.match(calm.message, /memory limit/);
  });
});
