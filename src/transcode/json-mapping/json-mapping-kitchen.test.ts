// Field kinds library.proto lacks: bool/int64/uint64/sint32/fixed64 map keys,
// proto3 optional, json_name, NullValue, every wrapper, Any of each WKT.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import protobuf from 'protobufjs';
import { JsonMappingError } from './json-mapping-error.js';
import { encodeJson } from './json-to-message.js';
import { decodeToJson } from './message-to-json.js';

const KITCHEN = `
syntax = "proto3";
package kitchen;
enum Mood { MOOD_UNSPECIFIED = 0; HAPPY = 1; }
message Sink {
  map<bool, string> flags = 1;
  map<int64, string> by_i64 = 2;
  map<uint64, string> by_u64 = 3;
  map<sint32, int32> by_s32 = 4;
  map<fixed64, Sink> by_f64 = 5;
  map<string, google.protobuf.Value> values = 6;
  optional int32 maybe = 7;
  string renamed = 8 [json_name = "customName"];
  uint32 u32 = 9;
  fixed32 f32 = 10;
  sfixed64 sf64 = 11;
  repeated google.protobuf.Int64Value i64s = 12;
  google.protobuf.DoubleValue dbl = 13;
  google.protobuf.FloatValue flt = 14;
  google.protobuf.UInt64Value u64w = 15;
  google.protobuf.UInt32Value u32w = 16;
  google.protobuf.BoolValue boolw = 17;
  google.protobuf.BytesValue bytesw = 18;
  google.protobuf.ListValue list = 19;
  google.protobuf.Empty empty = 20;
  google.protobuf.NullValue nothing = 21;
  repeated google.protobuf.Any anys = 22;
  repeated google.protobuf.Value vals = 23;
  map<string, Mood> moods = 24;
  repeated Mood mood_list = 25;
  oneof choice { google.protobuf.NullValue null_choice = 26; string text_choice = 27; }
  string snake_case_2x = 28;
}`;

function kitchenRoot(): protobuf.Root {
  const root = new protobuf.Root();
  for (const f of ['any', 'duration', 'empty', 'field_mask', 'struct', 'timestamp', 'wrappers']) {
    root.addJSON(protobuf.common.get(`google/protobuf/${f}.proto`)?.nested ?? {});
  }
  protobuf.parse(KITCHEN, root, { keepCase: true });
  root.resolveAll();
  return root;
}

const Sink = kitchenRoot().lookupType('kitchen.Sink');
const STRICT = { ignoreUnknownFields: false };
const OUT = { emitDefaults: false, useProtoNames: false };
const T = 'type.googleapis.com/google.protobuf.';

const CANONICAL = {
  flags: { true: 'yes', false: 'no' },
  byI64: { '-9223372036854775808': 'min', '5': 'five', '0': 'zero' },
  byU64: { '18446744073709551615': 'max', '9007199254740993': 'big' },
  byS32: { '-3': -3, '2147483647': 1 },
  byF64: { '1': { customName: 'nested' } },
  values: { a: null, b: 'x', c: { d: [] } },
  maybe: 0,
  customName: 'r',
  u32: 4294967295,
  f32: 7,
  sf64: '-9',
  i64s: ['1', '0', '-9223372036854775807'],
  dbl: 'NaN',
  flt: 0.1,
  u64w: '18446744073709551615',
  u32w: 0,
  boolw: false,
  bytesw: 'AQID',
  list: [1, 'a', null, [true]],
  empty: {},
  anys: [
    { '@type': `${T}Timestamp`, value: '2024-02-29T23:59:59.100Z' },
    { '@type': `${T}FieldMask`, value: 'a.bC,d' },
    { '@type': `${T}Empty` },
    { '@type': `${T}Value`, value: null },
    { '@type': `${T}ListValue`, value: [] },
    { '@type': `${T}BytesValue`, value: '' },
    { '@type': 'type.googleapis.com/kitchen.Sink', customName: 'inner', moods: { x: 'HAPPY' } },
  ],
  vals: [null, 1, {}, 'z'],
  moods: { a: 'HAPPY', b: 'MOOD_UNSPECIFIED' },
  moodList: ['HAPPY', 'MOOD_UNSPECIFIED', 9],
  nullChoice: null,
  snakeCase2x: 'sc',
};

test('kitchen-sink message round-trips: unusual map keys, optional, json_name, wrappers, Any of WKTs', () => {
  assert.deepStrictEqual(decodeToJson(Sink, encodeJson(Sink, CANONICAL, STRICT), OUT), CANONICAL);
});

test('kitchen-sink wire values checked with protobufjs decode', () => {
  const m = Sink.decode(encodeJson(Sink, CANONICAL, STRICT)) as unknown as Record<string, any>;
  // bool keys: "false" must be encoded as false (protobufjs would write the string "false" as true)
  assert.deepStrictEqual({ ...m.flags }, { true: 'yes', false: 'no' });
  const i64 = Object.keys(m.by_i64).map((k) => (k.length === 8 ? protobuf.util.longFromHash(k, false).toString() : k)).sort();
  assert.deepStrictEqual(i64, ['-9223372036854775808', '0', '5']);
  const u64 = Object.keys(m.by_u64).map((k) => protobuf.util.longFromHash(k, true).toString()).sort();
  assert.deepStrictEqual(u64, ['18446744073709551615', '9007199254740993']);
  assert.deepStrictEqual({ ...m.by_s32 }, { '-3': -3, '2147483647': 1 });
  assert.equal(m.maybe, 0);
  assert.equal(m._maybe, 'maybe');
  assert.equal(m.renamed, 'r');
  assert.equal(m.u32, 4294967295);
  assert.equal(m.sf64.toString(), '-9');
  assert.equal(m.dbl.value, NaN);
  assert.equal(m.flt.value, Math.fround(0.1));
  assert.equal(m.null_choice, 0);
  assert.equal(m.choice, 'null_choice');
  assert.deepStrictEqual(m.mood_list, [1, 0, 9]);
  assert.equal(m.anys[6].type_url, 'type.googleapis.com/kitchen.Sink');
  assert.equal((Sink.decode(m.anys[6].value) as unknown as Record<string, string>).renamed, 'inner');
});

test('kitchen-sink alternative inputs and rejections', () => {
  const alt = { custom_name: 'ignored?' };
  assert.throws(() => encodeJson(Sink, alt, STRICT), { message: 'sink: unknown field "custom_name"' });
  const ok = { renamed: 'proto name', by_u64: { '1': 'one' }, nothing: null, null_choice: null, u32: '12', flags: { false: '' } };
  assert.deepStrictEqual(decodeToJson(Sink, encodeJson(Sink, ok, STRICT), OUT), { customName: 'proto name', byU64: { '1': 'one' }, nullChoice: null, u32: 12, flags: { false: '' } });
  const rejected: Array<[unknown, string]> = [
    [{ u32: -1 }, 'sink.u32: -1 is out of range for uint32'],
    [{ u32: 4294967296 }, 'sink.u32: 4294967296 is out of range for uint32'],
    [{ flags: { maybe: 'x' } }, 'sink.flags["maybe"]: expected map key true or false, got "maybe"'],
    [{ byU64: { '-1': 'x' } }, 'sink.by_u64["-1"]: "-1" is out of range for uint64'],
    [{ byI64: { '1.5': 'x' } }, 'sink.by_i64["1.5"]: expected an integer map key, got "1.5"'],
    [{ i64s: [null] }, 'sink.i64s[0]: expected a 64-bit integer, got null'],
    [{ moodList: ['SAD'] }, 'sink.mood_list[0]: unknown value "SAD" for enum kitchen.Mood'],
    [{ nullChoice: null, textChoice: 'x' }, 'sink: oneof "choice" has both "null_choice" and "text_choice" set'],
    [{ anys: [{ '@type': `${T}Empty`, value: { a: 1 } }] }, 'sink.anys[0].value: unknown field "a"'],
    [{ anys: [{ '@type': 'no-slash' }] }, 'sink.anys[0]: cannot resolve Any type "no-slash"'],
  ];
  for (const [json, message] of rejected) {
    assert.throws(() => encodeJson(Sink, json, STRICT), (err: unknown) => {
      assert.ok(err instanceof JsonMappingError, String(err));
      assert.equal(err.message, message);
      return true;
    });
  }
  const lenient = encodeJson(Sink, { moodList: ['SAD', 'HAPPY'], moods: { a: 'SAD' }, nope: 1 }, { ignoreUnknownFields: true });
  assert.deepStrictEqual(decodeToJson(Sink, lenient, OUT), { moodList: ['HAPPY'] });
  const defaults = decodeToJson(Sink, new Uint8Array(0), { emitDefaults: true, useProtoNames: true }) as Record<string, unknown>;
  assert.equal(defaults.nothing, null);
  assert.equal(defaults.snake_case_2x, '');
  assert.equal('maybe' in defaults, false);
  assert.equal('null_choice' in defaults, false);
});
