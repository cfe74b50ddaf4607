import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FrameDecoder, encodeFrame, framePrefix } from './grpc-frame.js';
import { GrpcCode } from './status-map.js';

function collect(decoder: FrameDecoder, chunks: Uint8Array[]): { messages: Buffer[]; error: unknown } {
  const messages: Buffer[] = [];
  let error: unknown = null;
  for (const c of chunks) {
    const e = decoder.push(c, (m) => messages.push(Buffer.from(m)));
    if (e !== null) error = e;
  }
  return { messages, error };
}

test('frames split at every byte boundary decode to the same messages', () => {
  const msgs = [Buffer.from('hello'), Buffer.alloc(0), Buffer.alloc(70_000, 7), Buffer.from('end')];
  const wire = Buffer.concat(msgs.map((m) => encodeFrame(m)));
  // One byte at a time.
  const oneByOne = collect(new FrameDecoder(1 << 20), [...wire].map((b) => Uint8Array.of(b)));
  assert.deepEqual(oneByOne.messages, msgs);
  // Every split point of the first 40 bytes, in two pieces.
  for (let cut = 1; cut < 40; cut++) {
    const r = collect(new FrameDecoder(1 << 20), [wire.subarray(0, cut), wire.subarray(cut)]);
    assert.deepEqual(r.messages, msgs, `cut at ${cut}`);
    assert.equal(r.error, null);
  }
  // All in one chunk.
  const d = new FrameDecoder(1 << 20);
  assert.deepEqual(collect(d, [wire]).messages, msgs);
  assert.equal(d.atBoundary, true);
});

test('a partial frame is reported as pending, not at a boundary', () => {
  const d = new FrameDecoder(100);
  collect(d, [Buffer.concat([framePrefix(10), Buffer.from('abc')])]);
  assert.equal(d.atBoundary, false);
  assert.equal(d.pendingBytes, 3);
});

test('compressed or oversized frames are rejected and stop decoding', () => {
  const compressed = Buffer.concat([Buffer.from([1, 0, 0, 0, 1]), Buffer.from('x')]);
  const r = collect(new FrameDecoder(100), [compressed]);
  assert.deepEqual(r.error, { code: GrpcCode.INTERNAL, message: 'Received a compressed message but no compression was negotiated' });
  assert.equal(r.messages.length, 0);

  const big = new FrameDecoder(10);
  const r2 = collect(big, [framePrefix(11), Buffer.alloc(11), encodeFrame(Buffer.from('ok'))]);
  assert.equal((r2.error as { code: number }).code, GrpcCode.RESOURCE_EXHAUSTED);
  assert.match((r2.error as { message: string }).message, /larger than max \(11 vs\. 10\)/);
  assert.equal(r2.messages.length, 0);
});
