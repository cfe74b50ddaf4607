/**
 * proto3 JSON → protobuf: a validating converter driven by protobufjs
 * reflection. It builds the plain object protobufjs's generated encoder
 * writes correctly (numbers, Long beyond 2^53, Buffers, numeric enums,
 * canonical map keys), leaving zero-valued fields out so the bytes are the
 * canonical encoding. protobufjs's own fromObject is not used: it coerces
 * silently and knows none of the well-known-type JSON forms.
 */
import protobuf from 'protobufjs';
import { JsonMappingError, describeJson, fieldPath } from './json-mapping-error.js';
import { parseEnum, parseMapKey, parseScalar } from './scalar-from-json.js';
import { type FieldInfo, NULL_VALUE_ENUM, typeInfo } from './type-info.js';
import { type WktParseContext, parseWkt } from './wkt-from-json.js';

/** Options of {@link jsonToMessage} and {@link encodeJson}. */
export interface JsonToMessageOptions {
  /** Skip unknown JSON fields (and unknown enum names) instead of rejecting them. */
  readonly ignoreUnknownFields: boolean;
  /**
   * Label of the top-level value in error paths; default: the type's name
   * with a lower-case first letter (`Book` → `book`). `''` for none.
   */
  readonly rootPath?: string;
}

interface Ctx extends WktParseContext {
  readonly ignoreUnknownFields: boolean;
}

function isJsonObject(json: unknown): json is Record<string, unknown> {
  return typeof json === 'object' && json !== null && !Array.isArray(json);
}

/** Zero values of singular fields without presence are not encoded. */
function isZero(v: unknown): boolean {
  return (v === 0 && !Object.is(v, -0)) || v === '' || v === false || (v instanceof Uint8Array && v.length === 0);
}

function parseSingle(f: FieldInfo, json: unknown, path: string, depth: number, ctx: Ctx): unknown {
  if (f.messageType !== null) return parseMessage(f.messageType, json, path, depth + 1, ctx);
  if (f.enumType !== null) return parseEnum(f.enumType, json, path, ctx.ignoreUnknownFields);
  return parseScalar(f.kind, json, path);
}

function parseMap(f: FieldInfo, json: unknown, path: string, depth: number, ctx: Ctx): unknown {
  if (!isJsonObject(json)) throw new JsonMappingError(path, `expected an object (map), got ${describeJson(json)}`);
  // why: a null-prototype object keeps a "__proto__" key as an ordinary entry.
  const out: Record<string, unknown> = Object.create(null);
  let n = 0;
  for (const key of Object.keys(json)) {
    const entryPath = `${path}[${JSON.stringify(key)}]`;
    const v = parseSingle(f, json[key], entryPath, depth, ctx);
    if (v === undefined) continue; // unknown enum name, ignored
    out[parseMapKey(f.keyType, key, entryPath)] = v;
    n++;
  }
  return n > 0 ? out : undefined;
}

function parseRepeated(f: FieldInfo, json: unknown, path: string, depth: number, ctx: Ctx): unknown {
  if (!Array.isArray(json)) throw new JsonMappingError(path, `expected an array, got ${describeJson(json)}`);
  const out: unknown[] = [];
  for (let i = 0; i < json.length; i++) {
    const v = parseSingle(f, json[i], `${path}[${i}]`, depth, ctx);
    if (v !== undefined) out.push(v);
  }
  return out.length > 0 ? out : undefined;
}

/** null means "absent", except where null is itself a value (Value, NullValue). */
function nullIsValue(f: FieldInfo): boolean {
  if (f.repeated || f.map) return false;
  if (f.messageType !== null) return typeInfo(f.messageType).wkt === 'value';
  return f.explicitPresence && f.enumType !== null && f.enumType.fullName === NULL_VALUE_ENUM;
}

function parseOrdinary(type: protobuf.Type, json: unknown, path: string, depth: number, ctx: Ctx): Record<string, unknown> {
  if (!isJsonObject(json)) throw new JsonMappingError(path, `expected an object, got ${describeJson(json)}`);
  const info = typeInfo(type);
  const out: Record<string, unknown> = {};
  let oneofs: Map<string, string> | null = null;
  for (const key of Object.keys(json)) {
    const f = info.byName.get(key);
    if (f === undefined) {
      if (ctx.ignoreUnknownFields) continue;
      throw new JsonMappingError(path, `unknown field ${describeJson(key)}`);
    }
    const v = json[key];
    if (v === null && !nullIsValue(f)) continue;
    if (key === f.name && f.jsonName !== key && Object.hasOwn(json, f.jsonName) && json[f.jsonName] !== null) {
      throw new JsonMappingError(path, `field "${f.name}" is given twice (as "${f.jsonName}" and "${f.name}")`);
    }
    if (f.oneof !== null) {
      oneofs ??= new Map();
      const other = oneofs.get(f.oneof);
      if (other !== undefined) {
        throw new JsonMappingError(path, `oneof "${f.oneof}" has both "${other}" and "${f.name}" set`);
      }
      oneofs.set(f.oneof, f.name);
    }
    let parsed: unknown;
    if (f.map) parsed = parseMap(f, v, fieldPath(path, f.name), depth, ctx);
    else if (f.repeated) parsed = parseRepeated(f, v, fieldPath(path, f.name), depth, ctx);
    else if (f.messageType !== null) parsed = parseMessage(f.messageType, v, fieldPath(path, f.name), depth + 1, ctx);
    else {
      // why: most fields are scalars that parse fine; build their path only on error.
      try {
        parsed = parseSingle(f, v, '', depth, ctx);
      } catch (err) {
        throw err instanceof JsonMappingError && err.path === '' ? new JsonMappingError(fieldPath(path, f.name), err.message, err.code) : err;
      }
    }
    if (parsed === undefined || (!f.explicitPresence && f.messageType === null && isZero(parsed))) continue;
    out[f.name] = parsed;
  }
  return out;
}

function parseMessage(type: protobuf.Type, json: unknown, path: string, depth: number, ctx: Ctx): Record<string, unknown> {
  if (depth > protobuf.util.recursionLimit) {
    throw new JsonMappingError(path, `nested deeper than ${protobuf.util.recursionLimit} levels`);
  }
  const wkt = typeInfo(type).wkt;
  if (wkt !== null && wkt !== 'empty') return parseWkt(wkt, type, json, path, depth, ctx);
  return parseOrdinary(type, json, path, depth, ctx);
}

function makeCtx(opts: JsonToMessageOptions): Ctx {
  const ctx: Ctx = {
    ignoreUnknownFields: opts.ignoreUnknownFields,
    parseMessage: (t, j, p, d) => parseMessage(t, j, p, d, ctx),
  };
  return ctx;
}

function rootLabel(type: protobuf.Type, opts: JsonToMessageOptions): string {
  return opts.rootPath ?? type.name.charAt(0).toLowerCase() + type.name.slice(1);
}

/**
 * Converts parsed proto3 JSON (`JSON.parse` output) to a plain object that
 * `type.encode()` (and `type.fromObject`/`create`) accept: lowerCamelCase
 * and original field names, all scalar forms of the spec, enums by name or
 * number, maps, oneofs and the well-known types. A top-level `null` is the
 * empty message (or a NullValue for google.protobuf.Value).
 * @throws JsonMappingError (code `invalid_argument`) with the field path.
 */
export function jsonToMessage(type: protobuf.Type, json: unknown, opts: JsonToMessageOptions): Record<string, unknown> {
  if (json === null && typeInfo(type).wkt !== 'value') return {};
  return parseMessage(type, json, rootLabel(type, opts), 0, makeCtx(opts));
}

/**
 * {@link jsonToMessage} followed by protobufjs's encoder: the binary
 * (canonical: fields in number order, zero values omitted) encoding.
 * @throws JsonMappingError (code `invalid_argument`) with the field path.
 */
export function encodeJson(type: protobuf.Type, json: unknown, opts: JsonToMessageOptions): Uint8Array {
  return type.encode(jsonToMessage(type, json, opts)).finish();
}
