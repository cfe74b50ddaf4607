/**
 * protobuf → proto3 JSON, driven by protobufjs reflection: lowerCamelCase
 * (or proto) names, 64-bit integers as strings, enums as names, bytes as
 * base64, well-known types in their JSON forms, zero values omitted unless
 * asked for. Works on messages protobufjs decoded and on plain objects.
 */
import protobuf from 'protobufjs';
import { JsonMappingError, fieldPath } from './json-mapping-error.js';
import { enumToJson, isZeroScalar, mapKeyToJson, scalarToJson } from './scalar-to-json.js';
import { type FieldInfo, typeInfo } from './type-info.js';
import { formatWkt, setKey } from './wkt-to-json.js';

/** Options of {@link messageToJson} and {@link decodeToJson}. */
export interface MessageToJsonOptions {
  /**
   * Also print fields holding their zero value: scalars as 0/""/false/"0",
   * enums by their zero name, repeated as [], maps as {}. Unset message
   * fields and unset oneof members stay out (as in Java's
   * includingDefaultValueFields and Envoy's always_print_primitive_fields).
   */
  readonly emitDefaults: boolean;
  /** Use the proto field names instead of the lowerCamelCase JSON names. */
  readonly useProtoNames: boolean;
}

type Msg = Record<string, unknown>;

function formatSingle(f: FieldInfo, v: unknown, path: string, depth: number, opts: MessageToJsonOptions): unknown {
  if (f.messageType !== null) return formatMessage(f.messageType, v as Msg, path, depth + 1, opts);
  if (f.enumType !== null) return enumToJson(f.enumType, v);
  return scalarToJson(f.kind, v);
}

function zeroJson(f: FieldInfo): unknown {
  if (f.enumType !== null) return enumToJson(f.enumType, 0);
  return scalarToJson(f.kind, f.kind === 'string' ? '' : f.kind === 'bool' ? false : f.kind === 'bytes' ? new Uint8Array(0) : 0);
}

function formatMap(f: FieldInfo, v: Msg, hashed: boolean, path: string, depth: number, opts: MessageToJsonOptions): Msg {
  const out: Msg = {};
  for (const k of Object.keys(v)) {
    const key = mapKeyToJson(f.keyType, k, hashed);
    setKey(out, key, formatSingle(f, v[k], f.messageType !== null ? `${path}[${JSON.stringify(key)}]` : path, depth, opts));
  }
  return out;
}

function formatOrdinary(type: protobuf.Type, msg: Msg, path: string, depth: number, opts: MessageToJsonOptions): Msg {
  const out: Msg = {};
  // why: protobufjs stores 64-bit map keys of decoded messages as "long hashes".
  const hashed = msg instanceof protobuf.Message;
  for (const f of typeInfo(type).fields) {
    const key = opts.useProtoNames ? f.name : f.jsonName;
    const v = msg[f.name];
    if (f.map) {
      const keys = v == null ? 0 : Object.keys(v).length;
      if (keys > 0) out[key] = formatMap(f, v as Msg, hashed, fieldPath(path, f.name), depth, opts);
      else if (opts.emitDefaults) out[key] = {};
    } else if (f.repeated) {
      const list = (v ?? []) as unknown[];
      if (list.length > 0) {
        const p = fieldPath(path, f.name);
        out[key] = list.map((e, i) => formatSingle(f, e, f.messageType !== null ? `${p}[${i}]` : p, depth, opts));
      } else if (opts.emitDefaults) out[key] = [];
    } else if (f.explicitPresence || f.messageType !== null) {
      if (v != null && (f.messageType !== null || Object.prototype.hasOwnProperty.call(msg, f.name))) {
        out[key] = formatSingle(f, v, fieldPath(path, f.name), depth, opts);
      }
    } else if (v != null && !isZeroScalar(f.kind, v)) {
      out[key] = formatSingle(f, v, path, depth, opts);
    } else if (opts.emitDefaults) {
      out[key] = zeroJson(f);
    }
  }
  return out;
}

function formatMessage(type: protobuf.Type, msg: Msg, path: string, depth: number, opts: MessageToJsonOptions): unknown {
  if (depth > protobuf.util.recursionLimit) {
    throw new JsonMappingError(path, `nested deeper than ${protobuf.util.recursionLimit} levels`, 'internal');
  }
  const wkt = typeInfo(type).wkt;
  if (wkt !== null && wkt !== 'empty') {
    return formatWkt(wkt, type, msg, path, depth, (t, m, p, d) => formatMessage(t, m, p, d, opts));
  }
  return formatOrdinary(type, msg, path, depth, opts);
}

/**
 * The proto3 JSON value of `message` (decoded by protobufjs, or a plain
 * object with proto field names), ready for `JSON.stringify`.
 * @throws JsonMappingError (code `internal`) for values with no JSON form,
 * e.g. a Timestamp out of range or an Any of a type not in the root.
 */
export function messageToJson(type: protobuf.Type, message: object, opts: MessageToJsonOptions): unknown {
  return formatMessage(type, message as Msg, type.name.charAt(0).toLowerCase() + type.name.slice(1), 0, opts);
}

/**
 * Decodes protobuf bytes with protobufjs and returns {@link messageToJson}.
 * @throws JsonMappingError (code `internal`) when the bytes do not decode.
 */
export function decodeToJson(type: protobuf.Type, bytes: Uint8Array, opts: MessageToJsonOptions): unknown {
  let msg: protobuf.Message;
  try {
    msg = type.decode(bytes);
  } catch (err) {
    throw new JsonMappingError('', `cannot decode ${type.fullName.slice(1)}: ${(err as Error).message}`, 'internal');
  }
  return messageToJson(type, msg, opts);
}
