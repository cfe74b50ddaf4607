/**
 * protobufjs values → proto3 JSON for scalar fields, enums and map keys.
 * Accepts what protobufjs's decoder produces (Long for 64-bit values,
 * Buffer/Uint8Array for bytes) and plain numbers/strings.
 */
import Long from 'long';
import protobuf from 'protobufjs';
import { NULL_VALUE_ENUM } from './type-info.js';

const LONG_KINDS = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function isUnsigned64(kind: string): boolean {
  return kind === 'uint64' || kind === 'fixed64';
}

/** Decimal string of a 64-bit value given as Long, number or string. */
export function longToDecimal(v: unknown, unsigned: boolean): string {
  if (Long.isLong(v)) {
    // why: Long#toString divides in emulated 64-bit arithmetic (slow); below 2^53
    // a double is exact, above it BigInt formats natively. The field kind, not the
    // Long's own flag, decides the signedness.
    const lo = (v as Long).low >>> 0;
    const hi = unsigned ? (v as Long).high >>> 0 : (v as Long).high;
    if (hi >= -0x200000 && hi < 0x200000) return String(hi * 4294967296 + lo);
    return (BigInt(hi) * 4294967296n + BigInt(lo)).toString();
  }
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.trunc(v));
  return String(v);
}

/** Base64 (standard alphabet, padded) of a byte array. */
export function bytesToBase64(v: unknown): string {
  if (typeof v === 'string') return v; // protobufjs plain objects may carry base64 already
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  return Buffer.from((v ?? []) as number[]).toString('base64'); // protobufjs's bytes default is []
}

/**
 * The shortest decimal that reads back as the same 32-bit float, so a
 * `float` holding 0.1 prints as 0.1, not 0.10000000149011612.
 */
function float32ToJson(v: number): number {
  const f = Math.fround(v);
  for (let p = 1; p < 10; p++) {
    const s = Number(f.toPrecision(p));
    if (Math.fround(s) === f) return s;
  }
  return f;
}

function floatingToJson(kind: string, v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return kind === 'float' ? float32ToJson(v) : v;
}

/** JSON form of a scalar field value of type `kind`. */
export function scalarToJson(kind: string, v: unknown): unknown {
  switch (kind) {
    case 'double': case 'float':
      return floatingToJson(kind, Number(v));
    case 'bytes':
      return bytesToBase64(v);
    case 'int64': case 'uint64': case 'sint64': case 'fixed64': case 'sfixed64':
      return longToDecimal(v, isUnsigned64(kind));
    default:
      return v;
  }
}

/** JSON form of an enum value: its name, or the number when unknown. */
export function enumToJson(enumType: protobuf.Enum, v: unknown): unknown {
  if (enumType.fullName === NULL_VALUE_ENUM) return null;
  const n = typeof v === 'string' ? enumType.values[v] ?? v : v;
  return enumType.valuesById[n as number] ?? n;
}

/** Whether `v` is the zero value of a scalar `kind` (`enum` included). */
export function isZeroScalar(kind: string, v: unknown): boolean {
  switch (kind) {
    case 'string': return v === '';
    case 'bool': return v === false;
    case 'bytes': return typeof v === 'string' ? v === '' : (v as Uint8Array).length === 0;
    default:
      if (LONG_KINDS.has(kind) && Long.isLong(v)) return (v as Long).isZero();
      return v === 0 || v === '0' || v === 0n;
  }
}

/**
 * JSON object key of a map entry. In messages protobufjs decoded (`hashed`),
 * 64-bit keys are 8-character "long hashes" (or "0" for an absent key); in
 * plain objects they are decimal strings.
 */
export function mapKeyToJson(keyType: string, key: string, hashed: boolean): string {
  if (hashed && key.length === 8 && LONG_KINDS.has(keyType)) {
    return longToDecimal(protobuf.util.longFromHash(key, isUnsigned64(keyType)), isUnsigned64(keyType));
  }
  return key;
}
