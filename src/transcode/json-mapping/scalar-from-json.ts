/**
 * JSON → protobufjs values for scalar fields, enums and map keys, with the
 * proto3 JSON validation rules. Results are what protobufjs's encoder
 * writes correctly: numbers, Long for 64-bit values beyond 2^53, Buffers.
 */
import Long from 'long';
import type protobuf from 'protobufjs';
import { JsonMappingError, describeJson } from './json-mapping-error.js';
import { NULL_VALUE_ENUM } from './type-info.js';

/** Decimal integer as a string (leading zeros tolerated). */
const INT_RE = /^-?\d+$/;
/** JSON number grammar, for numbers sent as strings. */
const NUM_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const B64_RE = /^[A-Za-z0-9+/_-]*={0,2}$/;
const FLOAT_MAX = 3.4028234663852886e38;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

function isUnsigned(kind: string): boolean {
  return kind === 'uint32' || kind === 'fixed32' || kind === 'uint64' || kind === 'fixed64';
}

/** A JSON number, or a string in JSON number grammar, as a number; else null. */
function numberOf(json: unknown): number | null {
  if (typeof json === 'number') return json;
  if (typeof json === 'string' && (INT_RE.test(json) || NUM_RE.test(json))) return Number(json);
  return null;
}

function parseInt32(kind: string, json: unknown, path: string): number {
  const n = numberOf(json);
  if (n === null) throw new JsonMappingError(path, `expected a 32-bit integer, got ${describeJson(json)}`);
  if (!Number.isFinite(n)) throw new JsonMappingError(path, `${describeJson(json)} is out of range for ${kind}`);
  if (!Number.isInteger(n)) throw new JsonMappingError(path, `${describeJson(json)} is not an integer`);
  const ok = isUnsigned(kind) ? n >= 0 && n <= 0xffffffff : n >= -0x80000000 && n <= 0x7fffffff;
  if (!ok) throw new JsonMappingError(path, `${describeJson(json)} is out of range for ${kind}`);
  return n === 0 ? 0 : n; // why: normalise -0, which the encoder would keep as a varint 0 anyway
}

/**
 * A 64-bit integer: a number within ±2^53 (below that every integer is
 * exact) or a decimal string checked against the type's range exactly.
 */
function parseInt64(kind: string, json: unknown, path: string): number | Long {
  const unsigned = isUnsigned(kind);
  if (typeof json === 'string' && INT_RE.test(json)) {
    // why: up to 15 digits a string converts to a number exactly; skip BigInt and Long.
    if (json.length <= 15) return parseInt64Number(kind, Number(json), json, path);
    const big = BigInt(json);
    if (big < (unsigned ? 0n : INT64_MIN) || big > (unsigned ? UINT64_MAX : INT64_MAX)) {
      throw new JsonMappingError(path, `${describeJson(json)} is out of range for ${kind}`);
    }
    return Long.fromBits(Number(BigInt.asIntN(32, big)), Number(BigInt.asIntN(32, big >> 32n)), unsigned);
  }
  const n = numberOf(json);
  if (n === null) throw new JsonMappingError(path, `expected a 64-bit integer, got ${describeJson(json)}`);
  return parseInt64Number(kind, n, json, path);
}

function parseInt64Number(kind: string, n: number, json: unknown, path: string): number {
  if (!Number.isFinite(n)) throw new JsonMappingError(path, `${describeJson(json)} is out of range for ${kind}`);
  if (!Number.isInteger(n)) throw new JsonMappingError(path, `${describeJson(json)} is not an integer`);
  if (!Number.isSafeInteger(n)) {
    throw new JsonMappingError(path, `${describeJson(json)} is beyond 2^53 and may have lost precision; send 64-bit integers as JSON strings`);
  }
  if (n < 0 && isUnsigned(kind)) throw new JsonMappingError(path, `${describeJson(json)} is out of range for ${kind}`);
  return n === 0 ? 0 : n;
}

function parseFloating(kind: string, json: unknown, path: string): number {
  let n: number | null;
  if (json === 'NaN') n = NaN;
  else if (json === 'Infinity') n = Infinity;
  else if (json === '-Infinity') n = -Infinity;
  else {
    n = numberOf(json);
    if (n === null) throw new JsonMappingError(path, `expected a number, got ${describeJson(json)}`);
    // JSON.parse turns 1e999 into Infinity: that was a number out of range, not "Infinity".
    if (!Number.isFinite(n) || (kind === 'float' && Math.abs(n) > FLOAT_MAX)) {
      throw new JsonMappingError(path, `${describeJson(json)} is out of range for ${kind}`);
    }
  }
  return n;
}

/** Standard or URL-safe base64, padded or not. */
function parseBytes(json: unknown, path: string): Buffer {
  if (typeof json !== 'string') throw new JsonMappingError(path, `expected a base64 string, got ${describeJson(json)}`);
  const pad = json.indexOf('=');
  const bad = !B64_RE.test(json)
    || (pad >= 0 ? json.length % 4 !== 0 : json.length % 4 === 1);
  if (bad) throw new JsonMappingError(path, `invalid base64 ${describeJson(json)}`);
  return Buffer.from(json, 'base64');
}

/**
 * Converts the JSON value of a scalar field of type `kind` (`int32`,
 * `uint64`, `bytes`, ...). Throws {@link JsonMappingError} naming `path`.
 */
export function parseScalar(kind: string, json: unknown, path: string): unknown {
  switch (kind) {
    case 'string':
      if (typeof json !== 'string') throw new JsonMappingError(path, `expected a string, got ${describeJson(json)}`);
      return json;
    case 'bool':
      if (typeof json !== 'boolean') throw new JsonMappingError(path, `expected true or false, got ${describeJson(json)}`);
      return json;
    case 'int32': case 'sint32': case 'sfixed32': case 'uint32': case 'fixed32':
      return parseInt32(kind, json, path);
    case 'int64': case 'sint64': case 'sfixed64': case 'uint64': case 'fixed64':
      return parseInt64(kind, json, path);
    case 'double': case 'float':
      return parseFloating(kind, json, path);
    case 'bytes':
      return parseBytes(json, path);
    default:
      throw new JsonMappingError(path, `unsupported field type ${kind}`);
  }
}

/**
 * Converts an enum value given by name or number. Returns undefined for an
 * unknown name when `ignoreUnknown` is set (the value is then dropped, as
 * the spec's ignore-unknown option does). `null` is the value of
 * google.protobuf.NullValue.
 */
export function parseEnum(enumType: protobuf.Enum, json: unknown, path: string, ignoreUnknown: boolean): number | undefined {
  if (typeof json === 'string') {
    const v = enumType.values[json];
    if (v !== undefined) return v;
    if (ignoreUnknown) return undefined;
    throw new JsonMappingError(path, `unknown value ${describeJson(json)} for enum ${enumType.fullName.slice(1)}`);
  }
  if (typeof json === 'number') {
    if (Number.isInteger(json) && json >= -0x80000000 && json <= 0x7fffffff) return json;
    throw new JsonMappingError(path, `${describeJson(json)} is not a valid enum number`);
  }
  if (json === null && enumType.fullName === NULL_VALUE_ENUM) return 0;
  throw new JsonMappingError(path, `expected an enum name or number, got ${describeJson(json)}`);
}

/**
 * Converts a JSON object key to the object key protobufjs's encoder needs
 * for a map with key type `keyType`: a canonical decimal string for
 * integer keys, and for bool keys `"true"` or `""`.
 */
export function parseMapKey(keyType: string, key: string, path: string): string {
  switch (keyType) {
    case 'string':
      return key;
    case 'bool':
      // why: protobufjs encodes a bool map key with `w.bool(key)` on the string
      // key, so "false" would be written as true; "" is the falsy string.
      if (key === 'true') return 'true';
      if (key === 'false') return '';
      throw new JsonMappingError(path, `expected map key true or false, got ${describeJson(key)}`);
    default:
      if (!INT_RE.test(key)) throw new JsonMappingError(path, `expected an integer map key, got ${describeJson(key)}`);
      return String(parseScalar(keyType, key, path));
  }
}
