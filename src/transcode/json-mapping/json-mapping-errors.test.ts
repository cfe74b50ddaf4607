import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JsonMappingError } from './json-mapping-error.js';
import { loadLibraryRoot } from './json-mapping-samples.js';
import { encodeJson, jsonToMessage } from './json-to-message.js';
import { decodeToJson, messageToJson } from './message-to-json.js';

const root = loadLibraryRoot();
const STRICT = { ignoreUnknownFields: false };
const OUT = { emitDefaults: false, useProtoNames: false };

/** [type, JSON text, exact message]. JSON text so numbers go through JSON.parse as in the gateway. */
const REJECTED: Array<[string, string, string]> = [
  ['Book', '{"authors":[{},{"birthYear":"abc"}]}', 'book.authors[1].birth_year: expected a 32-bit integer, got "abc"'],
  ['Book', '{"titel":"x"}', 'book: unknown field "titel"'],
  ['Book', '{"isbn":123.5}', 'book.isbn: 123.5 is not an integer'],
  ['Book', '{"isbn":"12.5"}', 'book.isbn: "12.5" is not an integer'],
  ['Book', '{"title":5}', 'book.title: expected a string, got 5'],
  ['Book', '{"available":"true"}', 'book.available: expected true or false, got "true"'],
  ['Book', '{"authors":[{"birthYear":2147483648}]}', 'book.authors[0].birth_year: 2147483648 is out of range for int32'],
  ['Book', '{"authors":[{"birth_year":"-2147483649"}]}', 'book.authors[0].birth_year: "-2147483649" is out of range for int32'],
  ['Book', '{"hardcoverPages":1.5}', 'book.hardcover_pages: 1.5 is not an integer'],
  ['Book', '{"hardcoverPages":true}', 'book.hardcover_pages: expected a 32-bit integer, got true'],
  ['Book', '{"isbn":9007199254740993}', 'book.isbn: 9007199254740992 is beyond 2^53 and may have lost precision; send 64-bit integers as JSON strings'],
  ['Book', '{"isbn":"9223372036854775808"}', 'book.isbn: "9223372036854775808" is out of range for int64'],
  ['Book', '{"isbn":"abc"}', 'book.isbn: expected a 64-bit integer, got "abc"'],
  ['Book', '{"pageViews":"-1"}', 'book.page_views: "-1" is out of range for uint64'],
  ['Book', '{"pageViews":-1}', 'book.page_views: -1 is out of range for uint64'],
  ['Book', '{"catalogId":"18446744073709551616"}', 'book.catalog_id: "18446744073709551616" is out of range for fixed64'],
  ['Book', '{"rating":"fast"}', 'book.rating: expected a number, got "fast"'],
  ['Book', '{"rating":1e999}', 'book.rating: Infinity is out of range for double'],
  ['Book', '{"weightKg":1e39}', 'book.weight_kg: 1e+39 is out of range for float'],
  ['Book', '{"coverThumbnail":"abc$"}', 'book.cover_thumbnail: invalid base64 "abc$"'],
  ['Book', '{"coverThumbnail":"A"}', 'book.cover_thumbnail: invalid base64 "A"'],
  ['Book', '{"coverThumbnail":"AB="}', 'book.cover_thumbnail: invalid base64 "AB="'],
  ['Book', '{"coverThumbnail":[1]}', 'book.cover_thumbnail: expected a base64 string, got an array'],
  ['Book', '{"publishTime":"2020-13-01T00:00:00Z"}', 'book.publish_time: invalid timestamp "2020-13-01T00:00:00Z" (expected RFC 3339 like "2024-01-31T12:00:00.5Z")'],
  ['Book', '{"publishTime":"2021-02-29T00:00:00Z"}', 'book.publish_time: invalid timestamp "2021-02-29T00:00:00Z" (expected RFC 3339 like "2024-01-31T12:00:00.5Z")'],
  ['Book', '{"publishTime":"2020-01-01T00:00:00"}', 'book.publish_time: invalid timestamp "2020-01-01T00:00:00" (expected RFC 3339 like "2024-01-31T12:00:00.5Z")'],
  ['Book', '{"publishTime":"2020-01-01T00:00:00.1234567890Z"}', 'book.publish_time: invalid timestamp "2020-01-01T00:00:00.1234567890Z" (expected RFC 3339 like "2024-01-31T12:00:00.5Z")'],
  ['Book', '{"publishTime":1600000000}', 'book.publish_time: invalid timestamp 1600000000 (expected RFC 3339 like "2024-01-31T12:00:00.5Z")'],
  ['Book', '{"publishTime":"0001-01-01T00:00:00+01:00"}', 'book.publish_time: timestamp "0001-01-01T00:00:00+01:00" is out of range (0001-01-01 to 9999-12-31 UTC)'],
  ['Book', '{"readTime":"1.5"}', 'book.read_time: invalid duration "1.5" (expected seconds with an "s" suffix, like "1.500s")'],
  ['Book', '{"readTime":"1.0000000001s"}', 'book.read_time: invalid duration "1.0000000001s" (expected seconds with an "s" suffix, like "1.500s")'],
  ['Book', '{"readTime":"315576000001s"}', 'book.read_time: duration "315576000001s" is out of range (±315576000000s)'],
  ['Book', '{"ebookUrl":"u","hardcoverPages":3}', 'book: oneof "format" has both "ebook_url" and "hardcover_pages" set'],
  ['Book', '{"genre":"FANTASY"}', 'book.genre: unknown value "FANTASY" for enum example.library.v1.Genre'],
  ['Book', '{"genre":1.5}', 'book.genre: 1.5 is not a valid enum number'],
  ['Book', '{"genre":true}', 'book.genre: expected an enum name or number, got true'],
  ['Book', '{"authors":{}}', 'book.authors: expected an array, got an object'],
  ['Book', '{"authors":[5]}', 'book.authors[0]: expected an object, got 5'],
  ['Book', '{"labels":[]}', 'book.labels: expected an object (map), got an array'],
  ['Book', '{"labels":{"a":1}}', 'book.labels["a"]: expected a string, got 1'],
  ['Book', '{"editions":{"x":{}}}', 'book.editions["x"]: expected an integer map key, got "x"'],
  ['Book', '{"editions":{"3000000000":{}}}', 'book.editions["3000000000"]: "3000000000" is out of range for int32'],
  ['Book', '{"tags":[null]}', 'book.tags[0]: expected a string, got null'],
  ['Book', '{"metadata":[1]}', 'book.metadata: expected an object, got an array'],
  ['Book', '{"reprintCount":"x"}', 'book.reprint_count: expected a 32-bit integer, got "x"'],
  ['Book', '{"reprintCount":{"value":1}}', 'book.reprint_count: expected a 32-bit integer, got an object'],
  ['Book', '[1]', 'book: expected an object, got an array'],
  ['Author', '{"display_name":"a","displayName":"b"}', 'author: field "display_name" is given twice (as "displayName" and "display_name")'],
  ['Loan', '{"receipt":{"@type":"type.googleapis.com/foo.Bar"}}', 'loan.receipt: cannot resolve Any type "type.googleapis.com/foo.Bar"'],
  ['Loan', '{"receipt":{"displayName":"x"}}', 'loan.receipt: Any needs a string "@type" field'],
  ['Loan', '{"receipt":{"@type":"type.googleapis.com/google.protobuf.Duration"}}', 'loan.receipt: Any of type google.protobuf.Duration needs a "value" field'],
  ['Loan', '{"receipt":{"@type":"type.googleapis.com/google.protobuf.Duration","value":"1s","x":1}}', 'loan.receipt: unknown field "x"'],
  ['Loan', '{"receipt":{"@type":"type.googleapis.com/example.library.v1.Author","nope":1}}', 'loan.receipt: unknown field "nope"'],
  ['Loan', '{"receipt":{"@type":"type.googleapis.com/example.library.v1.Author","birthYear":"x"}}', 'loan.receipt.birth_year: expected a 32-bit integer, got "x"'],
  ['UpdateBookRequest', '{"updateMask":"a..b"}', 'updateBookRequest.update_mask: invalid field mask path "a..b"'],
  ['UpdateBookRequest', '{"updateMask":5}', 'updateBookRequest.update_mask: expected a field mask string, got 5'],
  ['ListShelvesRequest', '{"filter":{"minBooks":1.5}}', 'listShelvesRequest.filter.min_books: 1.5 is not an integer'],
  ['EchoMessage', '{"anyJson":{"a":[1,{"b":1e999}]}}', 'echoMessage.any_json.a[1].b: Infinity is out of range for a JSON number'],
];

test('rejected inputs: a JsonMappingError with code invalid_argument and the exact message', () => {
  for (const [typeName, text, message] of REJECTED) {
    const type = root.lookupType(`example.library.v1.${typeName}`);
    assert.throws(() => encodeJson(type, JSON.parse(text), STRICT), (err: unknown) => {
      assert.ok(err instanceof JsonMappingError, `${text}: ${String(err)}`);
      assert.equal(err.message, message, text);
      assert.equal(err.code, 'invalid_argument');
      return true;
    });
  }
});

test('rootPath option and the nesting limit', () => {
  const Book = root.lookupType('example.library.v1.Book');
  assert.throws(() => jsonToMessage(Book, { x: 1 }, { ignoreUnknownFields: false, rootPath: '' }), { message: 'unknown field "x"', path: '' });
  assert.throws(() => jsonToMessage(Book, { x: 1 }, { ignoreUnknownFields: false, rootPath: 'body' }), { message: 'body: unknown field "x"' });
  let deep: unknown = 1;
  for (let i = 0; i < 150; i++) deep = { a: deep };
  assert.throws(() => jsonToMessage(Book, { metadata: deep }, STRICT), (err: unknown) => {
    assert.ok(err instanceof JsonMappingError && /nested deeper than 100 levels$/.test(err.message), String(err));
    return true;
  });
});

test('values with no JSON form: JsonMappingError with code internal', () => {
  const Shelf = root.lookupType('example.library.v1.Shelf');
  const Loan = root.lookupType('example.library.v1.Loan');
  const Book = root.lookupType('example.library.v1.Book');
  const cases: Array<[() => unknown, string]> = [
    [() => messageToJson(Shelf, { create_time: { seconds: 253402300800 } }, OUT), 'shelf.create_time: timestamp {seconds: 253402300800, nanos: 0} is out of range'],
    [() => messageToJson(Book, { read_time: { seconds: 1, nanos: -1 } }, OUT), 'book.read_time: duration {seconds: 1, nanos: -1} is invalid'],
    [() => messageToJson(Loan, { receipt: { type_url: 'x/foo.Bar', value: new Uint8Array([8, 1]) } }, OUT), 'loan.receipt: cannot resolve Any type "x/foo.Bar"'],
    [() => messageToJson(Book, { metadata: { fields: { n: { numberValue: NaN } } } }, OUT), 'book.metadata.n: NaN has no JSON number form'],
    [() => decodeToJson(Book, new Uint8Array([0x0a, 0x05, 0x61]), OUT), 'cannot decode example.library.v1.Book: index out of range: 2 + 5 > 3'],
  ];
  for (const [fn, message] of cases) {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof JsonMappingError, String(err));
      assert.equal(err.message, message);
      assert.equal(err.code, 'internal');
      return true;
    });
  }
});

test('JsonMappingError survives a structured clone via toJSON/fromJSON', () => {
  const Book = root.lookupType('example.library.v1.Book');
  try {
    encodeJson(Book, { isbn: 'x' }, STRICT);
    assert.fail('expected a JsonMappingError');
  } catch (err) {
    assert.ok(err instanceof JsonMappingError);
    const back = JsonMappingError.fromJSON(structuredClone(err.toJSON()));
    assert.deepStrictEqual([back.code, back.path, back.message], ['invalid_argument', 'book.isbn', 'book.isbn: expected a 64-bit integer, got "x"']);
  }
});
