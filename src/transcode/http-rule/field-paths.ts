/**
 * Field-path helpers over protobufjs reflection (Roots loaded with
 * keepCase: true, so `field.name` is the proto name, e.g. `display_name`).
 *
 * protobufjs facts relied on: `type.fields` is keyed by proto name; a map
 * field has `map === true` (and `resolvedType` is its value type); scalars
 * have `resolvedType === null`; enums resolve to `protobuf.Enum`; a
 * `[json_name = "x"]` option lands in `field.options.json_name`;
 * `type.fullName` has a leading dot (`.google.protobuf.Timestamp`).
 */
import protobuf from 'protobufjs';

/**
 * Message types whose proto3 JSON form is a string, number or boolean, so
 * they may be set from a path variable or a query parameter.
 */
const SCALAR_LIKE_WKT = new Set([
  '.google.protobuf.DoubleValue',
  '.google.protobuf.FloatValue',
  '.google.protobuf.Int64Value',
  '.google.protobuf.UInt64Value',
  '.google.protobuf.Int32Value',
  '.google.protobuf.UInt32Value',
  '.google.protobuf.BoolValue',
  '.google.protobuf.StringValue',
  '.google.protobuf.BytesValue',
  '.google.protobuf.Timestamp',
  '.google.protobuf.Duration',
  '.google.protobuf.FieldMask',
]);

/**
 * The proto3 JSON name of a field: its `json_name` option when set, else
 * the proto name converted like protoc does (each '_' dropped and the next
 * character upper-cased: `display_name` → `displayName`).
 */
export function jsonName(field: protobuf.Field): string {
  const explicit: unknown = field.options?.['json_name'];
  if (typeof explicit === 'string') return explicit;
  let out = '';
  let upper = false;
  for (const ch of field.name) {
    if (ch === '_') upper = true;
    else {
      out += upper ? ch.toUpperCase() : ch;
      upper = false;
    }
  }
  return out;
}

/** The field named `name` (proto name, or also JSON name when `acceptJson`), or null. */
export function findField(type: protobuf.Type, name: string, acceptJson: boolean): protobuf.Field | null {
  const direct = Object.prototype.hasOwnProperty.call(type.fields, name) ? type.fields[name] : undefined;
  if (direct !== undefined) return direct;
  if (!acceptJson) return null;
  for (const f of type.fieldsArray) if (jsonName(f) === name) return f;
  return null;
}

/** True for a singular message field of a type other than the scalar-like well-known types. */
export function isPlainMessageField(field: protobuf.Field): boolean {
  return !field.map && field.resolvedType instanceof protobuf.Type && !SCALAR_LIKE_WKT.has(field.resolvedType.fullName);
}

/** True for scalars, enums and the scalar-like well-known types (wrappers, Timestamp, Duration, FieldMask). */
export function isScalarLike(field: protobuf.Field): boolean {
  if (field.map) return false;
  const t = field.resolvedType;
  return t === null || t instanceof protobuf.Enum || SCALAR_LIKE_WKT.has(t.fullName);
}

/** True when the proto3 JSON value of the field is a boolean (bool or BoolValue). */
export function isBoolField(field: protobuf.Field): boolean {
  const t = field.resolvedType;
  return t === null ? field.type === 'bool' : t.fullName === '.google.protobuf.BoolValue';
}

/** Result of {@link resolveFieldPath}: the fields along the path, or why it failed. */
export type FieldPathResult =
  | { readonly fields: protobuf.Field[]; readonly error?: undefined }
  /**
   * `unknown`: a name matched no field (vs. a path through a repeated/map/
   * non-message field); `resolved`: the fields resolved before the failure.
   */
  | { readonly fields?: undefined; readonly error: string; readonly unknown: boolean; readonly resolved: protobuf.Field[] };

/**
 * Resolves a dotted field path (`book.name`) from `type`. Every step but the
 * last must be a singular message field.
 */
export function resolveFieldPath(type: protobuf.Type, path: string, acceptJson: boolean): FieldPathResult {
  const names = path.split('.');
  const fields: protobuf.Field[] = [];
  let current = type;
  for (let i = 0; i < names.length; i++) {
    const f = findField(current, names[i], acceptJson);
    if (f === null) return { error: `no field "${names[i]}" in ${current.fullName.slice(1)}`, unknown: true, resolved: fields };
    fields.push(f);
    if (i < names.length - 1) {
      if (f.repeated || !isPlainMessageField(f) || !(f.resolvedType instanceof protobuf.Type)) {
        const what = f.map ? 'a map' : f.repeated ? 'repeated' : f.resolvedType instanceof protobuf.Type ? `a ${f.resolvedType.fullName.slice(1)}` : 'not a message';
        return { error: `field "${names.slice(0, i + 1).join('.')}" is ${what}, so "${path}" cannot go through it`, unknown: false, resolved: fields };
      }
      current = f.resolvedType;
    }
  }
  return { fields };
}

/** The canonical (proto-name) dotted path of resolved fields. */
export function protoPath(fields: readonly protobuf.Field[]): string {
  return fields.map((f) => f.name).join('.');
}
