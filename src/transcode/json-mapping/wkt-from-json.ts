/**
 * JSON → plain objects for the well-known types with special JSON forms:
 * Timestamp, Duration, FieldMask, Struct/Value/ListValue, wrappers and Any.
 * Fields are addressed by number (see type-info.ts); zero scalars are left
 * out so the encoding is canonical.
 */
import protobuf from 'protobufjs';
import { JsonMappingError, describeJson, fieldPath } from './json-mapping-error.js';
import { parseScalar } from './scalar-from-json.js';
import { type WktKind, fieldNameById, resolveAnyType, rootOf, typeInfo } from './type-info.js';

/** Parses the JSON of a (possibly nested) message; supplied by json-to-message. */
export type MessageParser = (type: protobuf.Type, json: unknown, path: string, depth: number) => Record<string, unknown>;

/** Options the WKT parsers need. */
export interface WktParseContext {
  readonly ignoreUnknownFields: boolean;
  readonly parseMessage: MessageParser;
}

const TS_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;
const DURATION_RE = /^(-)?(\d{1,12})(?:\.(\d{1,9}))?s$/;
const MASK_PATH_RE = /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$/;
/** 0001-01-01T00:00:00Z in Unix seconds: the earliest valid Timestamp. */
export const TIMESTAMP_MIN = -62135596800;
/** 9999-12-31T23:59:59Z in Unix seconds: the latest valid Timestamp (plus nanos). */
export const TIMESTAMP_MAX = 253402300799;
/** ±10000 years, the Duration range. */
export const DURATION_MAX = 315576000000;

/** Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(y: number, m: number): number {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return m === 4 || m === 6 || m === 9 || m === 11 ? 30 : 31;
}

/** Seconds and nanos as a plain object, zero fields omitted. */
function secondsNanos(type: protobuf.Type, seconds: number, nanos: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (seconds !== 0) out[fieldNameById(type, 1)] = seconds;
  if (nanos !== 0) out[fieldNameById(type, 2)] = nanos;
  return out;
}

function nanosOf(frac: string | undefined): number {
  return frac === undefined ? 0 : Number(frac.padEnd(9, '0'));
}

function parseTimestamp(type: protobuf.Type, json: unknown, path: string): Record<string, unknown> {
  const m = typeof json === 'string' ? TS_RE.exec(json) : null;
  const bad = (): JsonMappingError => new JsonMappingError(path,
    `invalid timestamp ${describeJson(json)} (expected RFC 3339 like "2024-01-31T12:00:00.5Z")`);
  if (m === null) throw bad();
  const [y, mo, d, h, mi, s] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number);
  const offH = m[8] === undefined ? 0 : Number(m[9]);
  const offM = m[8] === undefined ? 0 : Number(m[10]);
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59 || offH > 23 || offM > 59) throw bad();
  const offset = (m[8] === '-' ? -1 : 1) * (offH * 3600 + offM * 60);
  const seconds = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset;
  if (seconds < TIMESTAMP_MIN || seconds > TIMESTAMP_MAX) {
    throw new JsonMappingError(path, `timestamp ${describeJson(json)} is out of range (0001-01-01 to 9999-12-31 UTC)`);
  }
  return secondsNanos(type, seconds, nanosOf(m[7]));
}

function parseDuration(type: protobuf.Type, json: unknown, path: string): Record<string, unknown> {
  const m = typeof json === 'string' ? DURATION_RE.exec(json) : null;
  if (m === null) {
    throw new JsonMappingError(path, `invalid duration ${describeJson(json)} (expected seconds with an "s" suffix, like "1.500s")`);
  }
  const seconds = Number(m[2]);
  const nanos = nanosOf(m[3]);
  if (seconds > DURATION_MAX || (seconds === DURATION_MAX && nanos > 0)) {
    throw new JsonMappingError(path, `duration ${describeJson(json)} is out of range (±${DURATION_MAX}s)`);
  }
  const sign = m[1] === '-' ? -1 : 1;
  return secondsNanos(type, seconds === 0 ? 0 : sign * seconds, nanos === 0 ? 0 : sign * nanos);
}

/** "a.bC,dE" → ["a.b_c", "d_e"]. */
function parseFieldMask(type: protobuf.Type, json: unknown, path: string): Record<string, unknown> {
  if (typeof json !== 'string') throw new JsonMappingError(path, `expected a field mask string, got ${describeJson(json)}`);
  if (json === '') return {};
  const paths = json.split(',').map((p) => {
    if (!MASK_PATH_RE.test(p)) throw new JsonMappingError(path, `invalid field mask path ${describeJson(p)}`);
    return p.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  });
  return { [fieldNameById(type, 1)]: paths };
}

function isJsonObject(json: unknown): json is Record<string, unknown> {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

function subType(type: protobuf.Type, id: number): protobuf.Type {
  return type.fieldsById[id].resolve().resolvedType as protobuf.Type;
}

function parseStruct(type: protobuf.Type, json: unknown, path: string, depth: number): Record<string, unknown> {
  if (!isJsonObject(json)) throw new JsonMappingError(path, `expected an object, got ${describeJson(json)}`);
  const valueType = subType(type, 1);
  // why: a null-prototype object keeps a "__proto__" key as an ordinary entry.
  const fields: Record<string, unknown> = Object.create(null);
  let any = false;
  for (const key of Object.keys(json)) {
    fields[key] = parseValue(valueType, json[key], fieldPath(path, key), depth + 1);
    any = true;
  }
  return any ? { [fieldNameById(type, 1)]: fields } : {};
}

function parseListValue(type: protobuf.Type, json: unknown, path: string, depth: number): Record<string, unknown> {
  if (!Array.isArray(json)) throw new JsonMappingError(path, `expected an array, got ${describeJson(json)}`);
  const valueType = subType(type, 1);
  const values = json.map((v, i) => parseValue(valueType, v, `${path}[${i}]`, depth + 1));
  return values.length > 0 ? { [fieldNameById(type, 1)]: values } : {};
}

function parseValue(type: protobuf.Type, json: unknown, path: string, depth: number): Record<string, unknown> {
  if (depth > protobuf.util.recursionLimit) throw new JsonMappingError(path, `nested deeper than ${protobuf.util.recursionLimit} levels`);
  if (json === null) return { [fieldNameById(type, 1)]: 0 };
  switch (typeof json) {
    case 'number':
      if (!Number.isFinite(json)) throw new JsonMappingError(path, `${describeJson(json)} is out of range for a JSON number`);
      return { [fieldNameById(type, 2)]: json };
    case 'string': return { [fieldNameById(type, 3)]: json };
    case 'boolean': return { [fieldNameById(type, 4)]: json };
    default:
      if (Array.isArray(json)) return { [fieldNameById(type, 6)]: parseListValue(subType(type, 6), json, path, depth) };
      if (isJsonObject(json)) return { [fieldNameById(type, 5)]: parseStruct(subType(type, 5), json, path, depth) };
      throw new JsonMappingError(path, `expected a JSON value, got ${describeJson(json)}`);
  }
}

function parseWrapper(type: protobuf.Type, json: unknown, path: string): Record<string, unknown> {
  const f = type.fieldsById[1];
  const v = parseScalar(f.type, json, path);
  const zero = v === 0 || v === '' || v === false || (v instanceof Uint8Array && v.length === 0);
  return zero && !Object.is(v, -0) ? {} : { [f.name]: v };
}

function parseAny(type: protobuf.Type, json: unknown, path: string, depth: number, ctx: WktParseContext): Record<string, unknown> {
  if (!isJsonObject(json)) throw new JsonMappingError(path, `expected an object, got ${describeJson(json)}`);
  const keys = Object.keys(json);
  if (keys.length === 0) return {};
  const url = json['@type'];
  if (typeof url !== 'string') throw new JsonMappingError(path, 'Any needs a string "@type" field');
  const inner = resolveAnyType(rootOf(type), url);
  if (inner === null) throw new JsonMappingError(path, `cannot resolve Any type ${describeJson(url)}`);
  const wkt = typeInfo(inner).wkt;
  let obj: Record<string, unknown>;
  if (wkt !== null && (wkt !== 'empty' || 'value' in json)) {
    for (const k of keys) {
      if (k !== '@type' && k !== 'value' && !ctx.ignoreUnknownFields) throw new JsonMappingError(path, `unknown field ${describeJson(k)}`);
    }
    if (!('value' in json)) throw new JsonMappingError(path, `Any of type ${inner.fullName.slice(1)} needs a "value" field`);
    obj = ctx.parseMessage(inner, json.value, fieldPath(path, 'value'), depth + 1);
  } else {
    const rest: Record<string, unknown> = Object.create(null);
    for (const k of keys) if (k !== '@type') rest[k] = json[k];
    obj = ctx.parseMessage(inner, rest, path, depth + 1);
  }
  return { [fieldNameById(type, 1)]: url, [fieldNameById(type, 2)]: inner.encode(obj).finish() };
}

/**
 * Converts the JSON form of a well-known type of kind `kind` to a plain
 * object for protobufjs's encoder. `empty` is parsed as an ordinary message
 * by the caller. Throws {@link JsonMappingError}.
 */
export function parseWkt(
  kind: WktKind, type: protobuf.Type, json: unknown, path: string, depth: number, ctx: WktParseContext,
): Record<string, unknown> {
  switch (kind) {
    case 'timestamp': return parseTimestamp(type, json, path);
    case 'duration': return parseDuration(type, json, path);
    case 'fieldmask': return parseFieldMask(type, json, path);
    case 'struct': return parseStruct(type, json, path, depth);
    case 'listvalue': return parseListValue(type, json, path, depth);
    case 'value': return parseValue(type, json, path, depth);
    case 'wrapper': return parseWrapper(type, json, path);
    case 'any': return parseAny(type, json, path, depth, ctx);
    default: return ctx.parseMessage(type, json, path, depth);
  }
}
