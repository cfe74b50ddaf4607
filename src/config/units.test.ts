import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { gatewaySchema } from './schema-check.js';
import { parseDuration, parseSize, tryParseDuration, tryParsePercent, tryParseSize } from './units.js';

test('parseDuration converts every unit to milliseconds', () => {
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('5s'), 5000);
  assert.equal(parseDuration('1m'), 60_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('0.0004s'), 0);
  assert.equal(parseDuration('0s'), 0);
  assert.equal(parseDuration(1200), 1200);
  assert.equal(parseDuration('1200'), 1200);
  assert.equal(parseDuration(' 5s '), 5000);
});

test('parseDuration rejects malformed values with a hint', () => {
  for (const bad of ['5 s', '5sec', '-1s', 's', '', '1d', '1.s']) {
    assert.throws(() => parseDuration(bad), { name: 'RangeError', message: `must be a duration like 250ms, 5s, 1m, 1h or integer milliseconds, got ${JSON.stringify(bad)}` });
  }
  assert.throws(() => parseDuration(-5), RangeError);
  assert.throws(() => parseDuration(1.5), RangeError);
  assert.equal(tryParseDuration('nope'), null);
  assert.equal(tryParseDuration(null), null);
  assert.equal(tryParseDuration(true), null);
  assert.equal(tryParseDuration(`${Number.MAX_SAFE_INTEGER}h`), null);
});

test('parseSize converts binary multiples to bytes, case-insensitively', () => {
  assert.equal(parseSize('512b'), 512);
  assert.equal(parseSize('16kb'), 16 * 1024);
  assert.equal(parseSize('10mb'), 10 * 1024 * 1024);
  assert.equal(parseSize('10MB'), 10 * 1024 * 1024);
  assert.equal(parseSize('1gb'), 1024 ** 3);
  assert.equal(parseSize('1.5kb'), 1536);
  assert.equal(parseSize('0'), 0);
  assert.equal(parseSize(4096), 4096);
  assert.equal(parseSize('4096'), 4096);
});

test('parseSize rejects malformed values with a hint', () => {
  for (const bad of ['10m', 'mb', '1tb', '-1kb', '1 0kb', '']) {
    assert.throws(() => parseSize(bad), { name: 'RangeError', message: `must be a size like 512kb, 10mb, 1gb or integer bytes, got ${JSON.stringify(bad)}` });
  }
  assert.throws(() => parseSize(-1), RangeError);
  assert.equal(tryParseSize(2.5), null);
  assert.equal(tryParseSize({}), null);
});

test('the schema accepts exactly the durations and sizes the parsers accept', () => {
  const ajv = new Ajv2020({ allowUnionTypes: true, strict: true, strictRequired: false });
  ajv.addKeyword({ keyword: 'x-message', schemaType: ['string', 'object'] });
  ajv.addSchema(gatewaySchema);
  const id = String(gatewaySchema.$id);
  const duration = ajv.getSchema(`${id}#/$defs/duration`);
  const size = ajv.getSchema(`${id}#/$defs/size`);
  assert.ok(duration && size);
  const samples: unknown[] = ['250ms', '5s', '1.5m', '1h', '0', '100', 0, 30, -1, 1.5, '5 s', '1d', 'x', '', '10mb', '16KB', '1gb', '2.5kb', '7b', '1tb', true, null];
  for (const v of samples) {
    assert.equal(duration(v), tryParseDuration(v) !== null, `duration ${JSON.stringify(v)}`);
    assert.equal(size(v), tryParseSize(v) !== null, `size ${JSON.stringify(v)}`);
  }
});

test('tryParsePercent reads a percentage 0..100 (a string with % or a plain number)', () => {
  assert.equal(tryParsePercent('20%'), 20);
  assert.equal(tryParsePercent('12.5%'), 12.5);
  assert.equal(tryParsePercent('0%'), 0);
  assert.equal(tryParsePercent('100%'), 100);
  assert.equal(tryParsePercent(20), 20);
  for (const bad of ['20', '%', '-5%', '20 %', '1e2%', '101%', 101, null]) assert.equal(tryParsePercent(bad), null, String(bad));
  const ajv = new Ajv2020({ allowUnionTypes: true, strict: true, strictRequired: false });
  ajv.addKeyword({ keyword: 'x-message', schemaType: ['string', 'object'] });
  ajv.addSchema(gatewaySchema);
  const percent = ajv.getSchema(`${String(gatewaySchema.$id)}#/$defs/percent`);
  assert.ok(percent);
  // A string over 100% passes the schema's pattern; the semantic checks refuse it (with "at most 100%").
  for (const v of ['20%', '12.5%', '0%', '100%', '20', '%', '-5%', 20, 101, null]) {
    assert.equal(percent(v), tryParsePercent(v) !== null, `percent ${JSON.stringify(v)}`);
  }
});
