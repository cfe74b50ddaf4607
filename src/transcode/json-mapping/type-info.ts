/**
 * Per-type reflection facts the JSON mapping needs on every call, computed
 * once per protobufjs Type and cached: JSON names, field kinds, oneof
 * membership, the well-known-type kind, and Any type-URL resolution.
 *
 * protobufjs facts this relies on (checked against protobufjs 7.6):
 * - With `keepCase: true` a field's `name` is its proto name; protobufjs
 *   does not compute JSON names, and a `json_name` option lands in
 *   `field.options.json_name`. The JSON name is derived here the way protoc
 *   does (drop `_`, upper-case the next character).
 * - The bundled well-known types (protobufjs `common`) are defined in JSON
 *   with mixed field spellings (`type_url`, but `nullValue`), so WKT code
 *   looks their fields up by number, never by name.
 */
import protobuf from 'protobufjs';

/** Kinds of well-known types that have a special JSON form. */
export type WktKind =
  | 'timestamp' | 'duration' | 'fieldmask' | 'struct' | 'value' | 'listvalue'
  | 'wrapper' | 'empty' | 'any';

/** What the mapping needs to know about one field. */
export interface FieldInfo {
  readonly field: protobuf.Field;
  /** Proto name: the property name in protobufjs objects (keepCase). */
  readonly name: string;
  /** lowerCamelCase JSON name (or the `json_name` option). */
  readonly jsonName: string;
  /** Scalar type name (`int64`, `bytes`, ...), or `message` / `enum`. */
  readonly kind: string;
  readonly messageType: protobuf.Type | null;
  readonly enumType: protobuf.Enum | null;
  readonly repeated: boolean;
  readonly map: boolean;
  /** Map key scalar type (`''` when not a map). */
  readonly keyType: string;
  /** Name of the real (non-synthetic) oneof this field is in, or null. */
  readonly oneof: string | null;
  /** Oneof member or proto3 `optional`: set values are shown even if zero. */
  readonly explicitPresence: boolean;
}

/** Cached facts about one message type. */
export interface TypeInfo {
  readonly type: protobuf.Type;
  readonly fields: readonly FieldInfo[];
  /** Lookup by JSON name and by proto name. */
  readonly byName: ReadonlyMap<string, FieldInfo>;
  /** Special JSON form, or null for an ordinary message. */
  readonly wkt: WktKind | null;
}

const WKT_BY_NAME: Readonly<Record<string, WktKind>> = {
  '.google.protobuf.Timestamp': 'timestamp',
  '.google.protobuf.Duration': 'duration',
  '.google.protobuf.FieldMask': 'fieldmask',
  '.google.protobuf.Struct': 'struct',
  '.google.protobuf.Value': 'value',
  '.google.protobuf.ListValue': 'listvalue',
  '.google.protobuf.Empty': 'empty',
  '.google.protobuf.Any': 'any',
  '.google.protobuf.DoubleValue': 'wrapper',
  '.google.protobuf.FloatValue': 'wrapper',
  '.google.protobuf.Int64Value': 'wrapper',
  '.google.protobuf.UInt64Value': 'wrapper',
  '.google.protobuf.Int32Value': 'wrapper',
  '.google.protobuf.UInt32Value': 'wrapper',
  '.google.protobuf.BoolValue': 'wrapper',
  '.google.protobuf.StringValue': 'wrapper',
  '.google.protobuf.BytesValue': 'wrapper',
};

/** Full name of the enum whose JSON form is `null`. */
export const NULL_VALUE_ENUM = '.google.protobuf.NullValue';

/**
 * The proto3 JSON name of a proto field name, as protoc computes it:
 * underscores dropped, the character after one upper-cased.
 */
export function toJsonName(protoName: string): string {
  let out = '';
  let upperNext = false;
  for (const ch of protoName) {
    if (ch === '_') upperNext = true;
    else if (upperNext) { out += ch.toUpperCase(); upperNext = false; }
    else out += ch;
  }
  return out;
}

/** The well-known-type kind of a message type, or null. */
export function wktKindOf(type: protobuf.Type): WktKind | null {
  return WKT_BY_NAME[type.fullName] ?? null;
}

function buildFieldInfo(raw: protobuf.Field): FieldInfo {
  const field = raw.resolve();
  const options = field.options ?? {};
  const resolved = field.resolvedType;
  const messageType = resolved instanceof protobuf.Type ? resolved : null;
  const enumType = resolved instanceof protobuf.Enum ? resolved : null;
  const synthetic = options.proto3_optional === true;
  return {
    field,
    name: field.name,
    jsonName: typeof options.json_name === 'string' ? options.json_name : toJsonName(field.name),
    kind: messageType ? 'message' : enumType ? 'enum' : field.type,
    messageType,
    enumType,
    repeated: field.repeated && !field.map,
    map: field.map,
    keyType: field.map ? (field as unknown as protobuf.MapField).keyType : '',
    oneof: field.partOf && !synthetic ? field.partOf.name : null,
    explicitPresence: field.partOf !== null,
  };
}

const infoCache = new WeakMap<protobuf.Type, TypeInfo>();

/** Cached {@link TypeInfo} for `type` (built on first use). */
export function typeInfo(type: protobuf.Type): TypeInfo {
  let info = infoCache.get(type);
  if (info !== undefined) return info;
  const fields = type.fieldsArray.map(buildFieldInfo).sort((a, b) => a.field.id - b.field.id);
  const byName = new Map<string, FieldInfo>();
  for (const f of fields) { byName.set(f.jsonName, f); byName.set(f.name, f); }
  info = { type, fields, byName, wkt: wktKindOf(type) };
  infoCache.set(type, info);
  return info;
}

/** Property name of field number `id` in `type` (WKTs: names vary, numbers don't). */
export function fieldNameById(type: protobuf.Type, id: number): string {
  const f = type.fieldsById[id];
  if (f === undefined) throw new Error(`${type.fullName} has no field ${id}`);
  return f.name;
}

let wktRoot: protobuf.Root | null = null;

/** A Root holding every well-known type protobufjs bundles (Any fallback). */
function wellKnownRoot(): protobuf.Root {
  if (wktRoot !== null) return wktRoot;
  const root = new protobuf.Root();
  for (const file of ['any', 'duration', 'empty', 'field_mask', 'struct', 'timestamp', 'wrappers']) {
    const json = protobuf.common.get(`google/protobuf/${file}.proto`);
    if (json?.nested) root.addJSON(json.nested);
  }
  root.resolveAll();
  wktRoot = root;
  return root;
}

const anyCache = new WeakMap<protobuf.Root, Map<string, protobuf.Type>>();

/**
 * The message type an Any type URL names (`<prefix>/<full.name>`), looked up
 * in `root` and then among the bundled well-known types; null when unknown.
 */
export function resolveAnyType(root: protobuf.Root, typeUrl: string): protobuf.Type | null {
  let cache = anyCache.get(root);
  if (cache === undefined) { cache = new Map(); anyCache.set(root, cache); }
  const hit = cache.get(typeUrl);
  if (hit !== undefined) return hit;
  const slash = typeUrl.lastIndexOf('/');
  const name = typeUrl.slice(slash + 1);
  let found: protobuf.Type | null = null;
  if (slash >= 0 && name !== '' && !name.startsWith('.')) {
    for (const r of [root, wellKnownRoot()]) {
      const obj = r.lookup(`.${name}`);
      if (obj instanceof protobuf.Type) { found = obj; break; }
    }
  }
  // why: only hits are cached, so clients sending made-up URLs cannot grow the cache.
  if (found !== null) cache.set(typeUrl, found);
  return found;
}

/** The Root a type belongs to (types built without one get the WKT root). */
export function rootOf(type: protobuf.Type): protobuf.Root {
  const r = type.root;
  return r instanceof protobuf.Root ? r : wellKnownRoot();
}
