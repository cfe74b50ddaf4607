import assert from 'node:assert/strict';
import { test } from 'node:test';
import Long from 'long';
import { encodeJson, jsonToMessage } from './json-to-message.js';
import { fullBookJson, largeBookJson, loadLibraryRoot, smallBookJson } from './json-mapping-samples.js';
import { decodeToJson, messageToJson } from './message-to-json.js';
import { benchJsonMapping } from './json-mapping-bench.js';

const root = loadLibraryRoot();
const Book = root.lookupType('example.library.v1.Book');
const Author = root.lookupType('example.library.v1.Author');
const Shelf = root.lookupType('example.library.v1.Shelf');
const STRICT = { ignoreUnknownFields: false };
const OUT = { emitDefaults: false, useProtoNames: false };

function roundTrip(typeName: string, json: unknown): unknown {
  const type = root.lookupType(typeName);
  return decodeToJson(type, encodeJson(type, json, STRICT), OUT);
}

test('canonical Book JSON round-trips unchanged (every field kind and WKT of Book)', () => {
  for (const sample of [fullBookJson(), smallBookJson(), largeBookJson()]) {
    assert.deepStrictEqual(roundTrip('example.library.v1.Book', sample), sample);
  }
});

test('round trips of the other library messages: FieldMask, Int64Value, Any, Value, repeated enums', () => {
  const cases: Array<[string, unknown]> = [
    ['example.library.v1.UpdateBookRequest', { book: { title: 'x' }, updateMask: 'title,authors.displayName,readTime' }],
    ['example.library.v1.ListShelvesRequest', { pageSize: 10, pageToken: 't', filter: { genre: 'HISTORY', themes: ['a', 'b'], minBooks: '9007199254740993' } }],
    ['example.library.v1.SearchBooksRequest', { query: 'q', genres: ['FICTION', 'SCIENCE', 7], isbns: ['1', '-2', '9223372036854775807'] }],
    ['example.library.v1.Loan', { book: 'b', dueTime: '2030-01-01T00:00:00.000001Z', receipt: { '@type': 'type.googleapis.com/example.library.v1.Author', displayName: 'A', birthYear: 3 } }],
    ['example.library.v1.Loan', { receipt: { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '1.500s' } }],
    ['example.library.v1.Loan', { receipt: { '@type': 'type.googleapis.com/google.protobuf.Struct', value: { a: [1, 'x'] } } }],
    ['example.library.v1.Loan', { receipt: { '@type': 'type.googleapis.com/google.protobuf.Empty' } }],
    ['example.library.v1.Loan', { receipt: { '@type': 'x/google.protobuf.Any', value: { '@type': 'type.googleapis.com/google.protobuf.Int64Value', value: '-5' } } }],
    ['example.library.v1.EchoMessage', { text: 't', payload: 'AP8=', n: '-1', anyJson: [1, { x: null }, 'y', false] }],
    ['example.library.v1.EchoMessage', { anyJson: 'just a string' }],
    ['example.library.v1.CheckoutRequest', { name: 'n', period: '0.000000001s' }],
    ['example.library.v1.Shelf', { name: 's', bookCount: '1', createTime: '0001-01-01T00:00:00Z' }],
    ['example.library.v1.Shelf', { createTime: '9999-12-31T23:59:59.999999999Z' }],
    ['example.library.v1.Shelf', { createTime: '1969-12-31T23:59:59.999Z' }],
  ];
  for (const [name, json] of cases) assert.deepStrictEqual(roundTrip(name, json), json, name);
});

test('alternative inputs map to the canonical form', () => {
  const alt = {
    display_name: 'x', // original name
  };
  assert.deepStrictEqual(roundTrip('example.library.v1.Author', alt), { displayName: 'x' });
  const book = {
    title: 'T',
    genre: 2, // numeric enum
    isbn: 12345, // safe integer number for int64
    page_views: '77', // original name, decimal string
    rating: '2.5', // double as string
    weight_kg: 'Infinity',
    authors: [{ birth_year: '1999' }], // int32 as string
    cover_thumbnail: '-_-_AAECAw', // URL-safe, unpadded
    publish_time: '1965-08-01T14:30:00.5+02:00', // offset, 1 fractional digit
    read_time: '1.5s',
    hardcover_pages: 0, // oneof member with its zero value
    labels: null, // null = absent
    subtitle: null,
    editions: { '007': { displayName: 'seven' } }, // int key with leading zeros
    metadata: { n: 1e3 },
    catalog_id: 1e3,
  };
  assert.deepStrictEqual(roundTrip('example.library.v1.Book', book), {
    title: 'T', genre: 'SCIENCE', isbn: '12345', pageViews: '77', rating: 2.5, weightKg: 'Infinity',
    authors: [{ birthYear: 1999 }], coverThumbnail: '+/+/AAECAw==', publishTime: '1965-08-01T12:30:00.500Z',
    readTime: '1.500s', hardcoverPages: 0, editions: { '7': { displayName: 'seven' } }, metadata: { n: 1000 },
    catalogId: '1000',
  });
  assert.deepStrictEqual(roundTrip('example.library.v1.Book', { rating: 'NaN', weight_kg: '-Infinity' }), { rating: 'NaN', weightKg: '-Infinity' });
  const lenient = decodeToJson(Book, encodeJson(Book, { titel: 'x', genre: 'FANTASY', tags: ['a'] }, { ignoreUnknownFields: true }), OUT);
  assert.deepStrictEqual(lenient, { tags: ['a'] });
  assert.deepStrictEqual(jsonToMessage(Book, null, STRICT), {});
});

test('encoding matches protobufjs ground truth: decoded field values, and bytes of fromObject', () => {
  const bytes = encodeJson(Book, fullBookJson(), STRICT);
  const m = Book.decode(bytes) as unknown as Record<string, any>;
  assert.equal(m.name, 'shelves/s1/books/b1');
  assert.equal(Long.isLong(m.isbn) && m.isbn.toString(), '-9223372036854775808');
  assert.equal(m.page_views.toString(), '18446744073709551615');
  assert.equal(m.page_views.unsigned, true);
  assert.equal(m.shelf_position.toString(), '-42');
  assert.equal(m.catalog_id.toString(), '12345678901234567890');
  assert.deepStrictEqual([...m.cover_thumbnail], [0xfb, 0xff, 0xbf, 0, 1, 2, 3]);
  assert.equal(m.genre, 2);
  assert.equal(m.rating, -1.25e-7);
  assert.equal(m.weight_kg, Math.fround(0.3));
  assert.equal(m.authors.length, 3);
  assert.equal(m.authors[2].birth_year, -50);
  assert.deepStrictEqual(Object.keys(m.editions).sort(), ['-2', '0', '1']);
  assert.equal(m.editions['1'].display_name, 'first');
  assert.equal(m.ebook_url, 'https://example.com/dune.epub');
  assert.equal(m.format, 'ebook_url');
  assert.equal(m.publish_time.seconds.toNumber(), Date.UTC(1965, 7, 1, 12, 30) / 1000);
  assert.equal(m.publish_time.nanos, 123_000_000);
  assert.equal(m.read_time.seconds.toNumber(), -36000);
  assert.equal(m.read_time.nanos, -500);
  assert.ok(m.reprint_count !== null && m.reprint_count.value === 0); // present, empty wrapper
  assert.equal(m.extra.nullValue, 0);
  assert.equal(m.metadata.fields.b.listValue.values[3].structValue.fields.c.numberValue, 2.5);
  // Plain messages: our bytes equal protobufjs's own encoding of the equivalent object.
  const author = { display_name: 'Ann', birth_year: -7 };
  assert.deepStrictEqual(encodeJson(Author, { displayName: 'Ann', birthYear: -7 }, STRICT), Author.encode(Author.fromObject(author)).finish());
  const shelf = { name: 's', theme: 't', book_count: Long.fromString('9007199254740993') };
  assert.deepStrictEqual(encodeJson(Shelf, { name: 's', theme: 't', bookCount: '9007199254740993' }, STRICT), Shelf.encode(Shelf.fromObject(shelf)).finish());
  // Zero values are not written (canonical encoding).
  assert.equal(encodeJson(Author, { displayName: '', birthYear: 0 }, STRICT).length, 0);
});

test('output options: proto names, emitDefaults, unknown enum numbers, plain objects', () => {
  const json = messageToJson(Author, Author.decode(encodeJson(Author, { displayName: 'A' }, STRICT)), { emitDefaults: true, useProtoNames: true });
  assert.deepStrictEqual(json, { display_name: 'A', birth_year: 0 });
  const all = decodeToJson(Book, new Uint8Array(0), { emitDefaults: true, useProtoNames: false }) as Record<string, unknown>;
  assert.deepStrictEqual(all, {
    name: '', title: '', authors: [], genre: 'GENRE_UNSPECIFIED', isbn: '0', pageViews: '0', rating: 0, available: false,
    coverThumbnail: '', labels: {}, editions: {}, tags: [], weightKg: 0, shelfPosition: '0', catalogId: '0',
  });
  assert.deepStrictEqual(decodeToJson(Book, new Uint8Array(0), OUT), {});
  assert.deepStrictEqual(roundTrip('example.library.v1.Book', { genre: 42 }), { genre: 42 });
  const plain = { title: 'p', isbn: 5, page_views: Long.fromNumber(6, true), cover_thumbnail: new Uint8Array([1]), genre: 1 };
  assert.deepStrictEqual(messageToJson(Book, plain, OUT), { title: 'p', isbn: '5', pageViews: '6', coverThumbnail: 'AQ==', genre: 'FICTION' });
});

test('benchJsonMapping smoke run reports both sizes (no timing assertions)', () => {
  const results = benchJsonMapping({ durationMs: 10, root });
  assert.deepStrictEqual(results.map((r) => r.name), ['small', 'large']);
  assert.ok(results[0].protoBytes > 150 && results[0].protoBytes < 300, String(results[0].protoBytes));
  assert.ok(results[1].protoBytes > 90_000 && results[1].protoBytes < 110_000, String(results[1].protoBytes));
  for (const r of results) assert.ok(r.encodeOpsPerSec > 0 && r.decodeOpsPerSec > 0);
});
