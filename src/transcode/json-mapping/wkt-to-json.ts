/**
 * protobufjs messages → JSON for the well-known types with special JSON
 * forms. Values that have no valid JSON form (a Timestamp beyond year 9999,
 * a Duration with mixed signs, an Any of an unknown type) raise
 * JsonMappingError with code `internal`: the fault is the sender's.
 */
import Long from 'long';
import protobuf from 'protobufjs';
import { JsonMappingError, describeJson, fieldPath } from './json-mapping-error.js';
import { scalarToJson } from './scalar-to-json.js';
import { type WktKind, fieldNameById, resolveAnyType, rootOf, typeInfo } from './type-info.js';
import { DURATION_MAX, TIMESTAMP_MAX, TIMESTAMP_MIN } from './wkt-from-json.js';

/** Formats a nested message; supplied by message-to-json. */
export type MessageFormatter = (type: protobuf.Type, msg: Record<string, unknown>, path: string, depth: number) => unknown;

type Msg = Record<string, unknown>;

function num(v: unknown): number {
  if (v === undefined || v === null) return 0;
  if (Long.isLong(v)) return (v as Long).toNumber();
  return Number(v);
}

function internal(path: string, detail: string): JsonMappingError {
  return new JsonMappingError(path, detail, 'internal');
}

/** ".5", ".500", ".500001" or ".000000001" style: 0, 3, 6 or 9 digits. */
function fraction(nanos: number): string {
  if (nanos === 0) return '';
  if (nanos % 1e6 === 0) return `.${String(nanos / 1e6).padStart(3, '0')}`;
  if (nanos % 1e3 === 0) return `.${String(nanos / 1e3).padStart(6, '0')}`;
  return `.${String(nanos).padStart(9, '0')}`;
}

function formatTimestamp(type: protobuf.Type, msg: Msg, path: string): string {
  const seconds = num(msg[fieldNameById(type, 1)]);
  const nanos = num(msg[fieldNameById(type, 2)]);
  if (!(seconds >= TIMESTAMP_MIN && seconds <= TIMESTAMP_MAX) || !(nanos >= 0 && nanos <= 999999999) || !Number.isInteger(nanos)) {
    throw internal(path, `timestamp {seconds: ${seconds}, nanos: ${nanos}} is out of range`);
  }
  return `${new Date(seconds * 1000).toISOString().slice(0, 19)}${fraction(nanos)}Z`;
}

function formatDuration(type: protobuf.Type, msg: Msg, path: string): string {
  const seconds = num(msg[fieldNameById(type, 1)]);
  const nanos = num(msg[fieldNameById(type, 2)]);
  const ok = Math.abs(seconds) <= DURATION_MAX && Math.abs(nanos) <= 999999999 && Number.isInteger(nanos)
    && !(seconds > 0 && nanos < 0) && !(seconds < 0 && nanos > 0);
  if (!ok) throw internal(path, `duration {seconds: ${seconds}, nanos: ${nanos}} is invalid`);
  const sign = seconds < 0 || nanos < 0 ? '-' : '';
  return `${sign}${Math.abs(seconds)}${fraction(Math.abs(nanos))}s`;
}

function formatFieldMask(type: protobuf.Type, msg: Msg, path: string): string {
  const paths = (msg[fieldNameById(type, 1)] ?? []) as string[];
  return paths.map((p) => {
    // A path with upper case or "_" not before a lower-case letter would not map back.
    if (/[A-Z]|_(?![a-z])/.test(p)) throw internal(path, `field mask path ${describeJson(p)} has no JSON form`);
    return p.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
  }).join(',');
}

/** Sets `key` even when it is "__proto__" (which `obj[key] =` would not). */
export function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  else obj[key] = value;
}

function formatStruct(type: protobuf.Type, msg: Msg, path: string, depth: number): Record<string, unknown> {
  const fields = (msg[fieldNameById(type, 1)] ?? {}) as Msg;
  const valueType = type.fieldsById[1].resolvedType as protobuf.Type;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(fields)) setKey(out, key, formatValue(valueType, fields[key] as Msg, fieldPath(path, key), depth + 1));
  return out;
}

function formatListValue(type: protobuf.Type, msg: Msg, path: string, depth: number): unknown[] {
  const values = (msg[fieldNameById(type, 1)] ?? []) as Msg[];
  const valueType = type.fieldsById[1].resolvedType as protobuf.Type;
  return values.map((v, i) => formatValue(valueType, v, `${path}[${i}]`, depth + 1));
}

function isSet(msg: Msg, name: string): boolean {
  return Object.prototype.hasOwnProperty.call(msg, name) && msg[name] != null;
}

/** The kind oneof of google.protobuf.Value; an unset Value prints as null. */
function formatValue(type: protobuf.Type, msg: Msg, path: string, depth: number): unknown {
  if (depth > protobuf.util.recursionLimit) throw internal(path, `nested deeper than ${protobuf.util.recursionLimit} levels`);
  for (let id = 2; id <= 6; id++) {
    const f = type.fieldsById[id];
    if (!isSet(msg, f.name)) continue;
    const v = msg[f.name];
    switch (id) {
      case 2:
        if (!Number.isFinite(v)) throw internal(path, `${String(v)} has no JSON number form`);
        return v;
      case 3: case 4: return v;
      case 5: return formatStruct(f.resolvedType as protobuf.Type, v as Msg, path, depth);
      default: return formatListValue(f.resolvedType as protobuf.Type, v as Msg, path, depth);
    }
  }
  return null;
}

function formatWrapper(type: protobuf.Type, msg: Msg): unknown {
  const f = type.fieldsById[1];
  const v = msg[f.name];
  if (v !== undefined && v !== null) return scalarToJson(f.type, v);
  return scalarToJson(f.type, f.type === 'string' ? '' : f.type === 'bool' ? false : f.type === 'bytes' ? new Uint8Array(0) : 0);
}

function formatAny(type: protobuf.Type, msg: Msg, path: string, depth: number, fmt: MessageFormatter): unknown {
  const url = msg[fieldNameById(type, 1)];
  const bytes = (msg[fieldNameById(type, 2)] ?? new Uint8Array(0)) as Uint8Array;
  if (typeof url !== 'string' || url === '') {
    if (bytes.length === 0) return {};
    throw internal(path, 'Any has a value but no type URL');
  }
  const inner = resolveAnyType(rootOf(type), url);
  if (inner === null) throw internal(path, `cannot resolve Any type ${describeJson(url)}`);
  let decoded: Msg;
  try {
    decoded = inner.decode(bytes) as unknown as Msg;
  } catch (err) {
    throw internal(path, `Any of type ${describeJson(url)} does not decode: ${(err as Error).message}`);
  }
  const json = fmt(inner, decoded, path, depth + 1);
  const wkt = typeInfo(inner).wkt;
  if (wkt !== null && wkt !== 'empty') return { '@type': url, value: json };
  return { '@type': url, ...(json as Msg) };
}

/**
 * JSON form of a message of a well-known type of kind `kind` (`empty` is
 * handed back to `fmt` as an ordinary message).
 * @throws JsonMappingError (code `internal`) for values with no JSON form.
 */
export function formatWkt(kind: WktKind, type: protobuf.Type, msg: Msg, path: string, depth: number, fmt: MessageFormatter): unknown {
  switch (kind) {
    case 'timestamp': return formatTimestamp(type, msg, path);
    case 'duration': return formatDuration(type, msg, path);
    case 'fieldmask': return formatFieldMask(type, msg, path);
    case 'struct': return formatStruct(type, msg, path, depth);
    case 'listvalue': return formatListValue(type, msg, path, depth);
    case 'value': return formatValue(type, msg, path, depth);
    case 'wrapper': return formatWrapper(type, msg);
    case 'any': return formatAny(type, msg, path, depth, fmt);
    default: return fmt(type, msg, path, depth);
  }
}
