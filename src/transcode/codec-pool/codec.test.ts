import { strict as assert } from 'node:assert';
import { after, describe, it } from 'node:test';
import { JsonMappingError } from '../json-mapping/json-mapping-error.js';
import { LIBRARY_PROTO, fullBookJson, largeBookJson, protoIncludeDir, smallBookJson } from '../json-mapping/json-mapping-samples.js';
import { ProtoCodecError } from './codec-task.js';
import { ProtoCodec, type ProtoCodecOptions } from './codec.js';

const BOOK = 'example.library.v1.Book';
const base: ProtoCodecOptions = { files: [LIBRARY_PROTO], includeDirs: [protoIncludeDir()], offload: 'never', offloadThresholdBytes: 1000, threads: 2 };
const DEC = { emitDefaults: false, useProtoNames: false };
const ENC = { ignoreUnknownFields: false };

/** Settles a call that may be synchronous (throw) or a Promise (reject). */
async function settle(fn: () => unknown): Promise<unknown> {
  try {
    return { value: await fn() };
  } catch (err) {
    return { err };
  }
}

describe('ProtoCodec', () => {
  const inline = new ProtoCodec(base);
  const pool = new ProtoCodec({ ...base, offload: 'always' });
  after(async () => {
    await inline.close();
    await pool.close();
  });

  it('never starts no pool and returns plain values, not Promises', () => {
    const bytes = inline.encode(BOOK, smallBookJson(), ENC);
    assert.ok(bytes instanceof Uint8Array);
    const json = inline.decode(BOOK, bytes, DEC);
    assert.ok(!(json instanceof Promise));
    assert.deepEqual(json, smallBookJson());
    assert.equal(inline.poolStarted, false);
  });

  it('inline and pool give identical bytes and JSON for small, full and large Books', async () => {
    for (const book of [smallBookJson(), fullBookJson(), largeBookJson()]) {
      const a = inline.encode(BOOK, book, ENC) as Uint8Array;
      const b = await pool.encode(BOOK, book, ENC);
      assert.ok(b instanceof Uint8Array);
      assert.deepEqual(Buffer.from(b), Buffer.from(a));
      for (const opts of [DEC, { emitDefaults: true, useProtoNames: true }]) {
        assert.deepEqual(await pool.decode(BOOK, a, opts), inline.decode(BOOK, a, opts));
      }
    }
    assert.ok((inline.encode(BOOK, largeBookJson(), ENC) as Uint8Array).length > 90_000);
  });

  it('text variants match the object API inline and in the pool', async () => {
    for (const book of [smallBookJson(), largeBookJson()]) {
      const text = JSON.stringify(book);
      const a = inline.encode(BOOK, book, ENC) as Uint8Array;
      assert.deepEqual(Buffer.from(inline.encodeText(BOOK, text, ENC) as Uint8Array), Buffer.from(a));
      assert.deepEqual(Buffer.from(await pool.encodeText(BOOK, text, ENC)), Buffer.from(a));
      assert.equal(inline.decodeText(BOOK, a, DEC), JSON.stringify(inline.decode(BOOK, a, DEC)));
      assert.equal(await pool.decodeText(BOOK, a, DEC), inline.decodeText(BOOK, a, DEC));
    }
  });

  it('errors from the worker arrive with the same class, code and message as inline', async () => {
    const cases: Array<(c: ProtoCodec) => unknown> = [
      (c) => c.encode(BOOK, { ...smallBookJson(), authors: [{ birthYear: 'abc' }] }, ENC),
      (c) => c.encode(BOOK, { nope: 1 }, ENC),
      (c) => c.decode(BOOK, Uint8Array.from([0x0a, 0xff, 0xff]), DEC),
      (c) => c.encode('example.library.v1.NoSuchType', {}, ENC),
      (c) => c.encodeText(BOOK, '{"title": ', ENC),
    ];
    for (const run of cases) {
      const a = (await settle(() => run(inline))) as { err: Error & { code: string } };
      const b = (await settle(() => run(pool))) as { err: Error & { code: string } };
      assert.ok(a.err instanceof Error, 'inline must fail');
      assert.equal(b.err.constructor, a.err.constructor);
      assert.equal(b.err.code, a.err.code);
      assert.equal(b.err.message, a.err.message);
    }
    const bad = (await settle(() => pool.encode(BOOK, { authors: [{ birthYear: 'abc' }] }, ENC))) as { err: JsonMappingError };
    assert.ok(bad.err instanceof JsonMappingError);
    assert.equal(bad.err.code, 'invalid_argument');
    assert.equal(bad.err.path, 'book.authors[0].birth_year');
    const unknown = (await settle(() => pool.decode('x.Y', new Uint8Array(0), DEC))) as { err: ProtoCodecError };
    assert.ok(unknown.err instanceof ProtoCodecError);
    assert.equal(unknown.err.code, 'unknown_type');
  });

  it('auto runs inline below the threshold and in the pool at and above it', async () => {
    const auto = new ProtoCodec({ ...base, offload: 'auto', offloadThresholdBytes: 1000 });
    try {
      const small = auto.encode(BOOK, smallBookJson(), { ...ENC, sizeHint: 999 });
      assert.ok(small instanceof Uint8Array);
      assert.equal(auto.encode(BOOK, smallBookJson(), ENC) instanceof Uint8Array, true, 'no sizeHint: inline');
      assert.deepEqual(auto.stats, { inline: 2, offloaded: 0 });
      assert.equal(auto.poolStarted, false);
      const atThreshold = auto.encode(BOOK, smallBookJson(), { ...ENC, sizeHint: 1000 });
      assert.ok(atThreshold instanceof Promise);
      assert.deepEqual(Buffer.from(await atThreshold), Buffer.from(small));
      assert.deepEqual(auto.stats, { inline: 2, offloaded: 1 });
      const bigBytes = auto.encode(BOOK, largeBookJson(), ENC) as Uint8Array;
      assert.ok(!(auto.decode(BOOK, small, DEC) instanceof Promise));
      const decoded = auto.decode(BOOK, bigBytes, DEC);
      assert.ok(decoded instanceof Promise);
      assert.deepEqual(await decoded, largeBookJson());
      assert.deepEqual(auto.stats, { inline: 4, offloaded: 2 });
    } finally {
      await auto.close();
    }
  });

  it('completes 500 concurrent pool tasks', async () => {
    const bytes = inline.encode(BOOK, fullBookJson(), ENC) as Uint8Array;
    const before = pool.stats.offloaded;
    const tasks: unknown[] = [];
    for (let i = 0; i < 500; i++) {
      tasks.push(i % 2 === 0 ? pool.encode(BOOK, { ...smallBookJson(), title: `t${i}` }, ENC) : pool.decode(BOOK, bytes, DEC));
    }
    const results = await Promise.all(tasks);
    assert.equal(results.length, 500);
    for (let i = 0; i < 500; i += 2) {
      const json = inline.decode(BOOK, results[i] as Uint8Array, DEC) as { title: string };
      assert.equal(json.title, `t${i}`);
    }
    assert.deepEqual(results[1], fullBookJson());
    assert.equal(pool.stats.offloaded - before, 500);
  });

  it('close() ends the threads and later calls fail with code closed', async () => {
    const c = new ProtoCodec({ ...base, offload: 'always', threads: 1 });
    await c.encode(BOOK, smallBookJson(), ENC);
    assert.equal(c.poolStarted, true);
    await c.close();
    assert.equal(c.poolStarted, false);
    const r = (await settle(() => c.encode(BOOK, {}, ENC))) as { err: ProtoCodecError };
    assert.equal(r.err.code, 'closed');
  });
});
