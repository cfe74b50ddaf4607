/**
 * Builds the proto3-JSON object of a gRPC request from an HTTP request, per
 * the HttpRule mapping rules:
 *
 * 1. Body: with body "*" the JSON body (an object) is the message; with
 *    body "field" the JSON body becomes that field; with no body rule a
 *    request body is ignored (as grpc-gateway does).
 * 2. Path variables are set next and WIN over body values for the same field
 *    (grpc-gateway decodes the body, then overwrites path-bound fields). A
 *    path variable inside the body field (`{book.name}` with body "book")
 *    overwrites that sub-field. Keys are written with JSON names; a body key
 *    for the same field spelled with the proto name is removed, so the JSON
 *    parser never sees the field twice.
 * 3. Query parameters fill the remaining fields. A parameter whose field is
 *    bound by the path or covered by the body (everything with body "*",
 *    anything under the body field) is skipped silently, as grpc-gateway
 *    does. Names may use proto or JSON names per segment (`filter.min_books`
 *    or `filter.minBooks`); repeated fields take repeated parameters; only
 *    scalars, enums and the scalar-like well-known types (wrappers,
 *    Timestamp, Duration, FieldMask, as their JSON strings) can be set.
 *
 * Values stay strings (proto3 JSON accepts strings for every number type,
 * bytes as base64, enums by name, and the string forms of the well-known
 * types); booleans become true/false and numeric enum values become
 * numbers. The request JSON parser validates the result. The caller's body
 * is never mutated (objects along written paths are shallow-copied).
 */
import protobuf from 'protobufjs';
import { HttpRuleError, type HttpRuleErrorCode } from './errors.js';
import { findField, isBoolField, isScalarLike, jsonName, protoPath, resolveFieldPath } from './field-paths.js';
import type { PathVars } from './router-route.js';

/** What request mapping needs from an {@link HttpBinding}. */
export interface MappingBinding {
  readonly requestType: protobuf.Type;
  /** '' | '*' | top-level request field (proto name). */
  readonly body: string;
}

/** Options of {@link buildRequestObject}. */
export interface RequestMappingOptions {
  /** Skip query parameters that name no field instead of throwing `unknown_query_parameter`. Default false. */
  readonly ignoreUnknownQuery?: boolean;
}

type JsonObject = Record<string, unknown>;

function isPlainObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Converts a path/query string to the JSON value the field expects (booleans, numeric enums). */
function convert(field: protobuf.Field, raw: string, what: string, code: HttpRuleErrorCode): unknown {
  if (isBoolField(field)) {
    if (raw === 'true') return true;
    if (raw === 'false') return false;
    throw new HttpRuleError(code, `${what}: field "${field.name}" is a boolean, expected "true" or "false", got "${raw}"`);
  }
  if (field.resolvedType instanceof protobuf.Enum && /^-?\d+$/.test(raw)) return Number(raw);
  return raw;
}

/**
 * Sets `value` at the field path under `obj` (in place), creating or
 * shallow-copying the objects on the way. Each key is written with the
 * field's JSON name and the proto-name spelling is removed.
 */
function setPath(obj: JsonObject, fields: readonly protobuf.Field[], value: unknown): void {
  let target = obj;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const key = jsonName(f);
    const existing = target[key] !== undefined ? target[key] : target[f.name];
    if (f.name !== key) delete target[f.name];
    if (i === fields.length - 1) {
      target[key] = value;
      return;
    }
    const next: JsonObject = isPlainObject(existing) ? { ...existing } : {};
    target[key] = next;
    target = next;
  }
}

/** True when `path` is bound by (equal to, or under) one of `bound`. */
function isBound(path: string, bound: readonly string[]): boolean {
  for (const b of bound) if (path === b || path.startsWith(b + '.')) return true;
  return false;
}

/** Groups query values by parameter name, keeping first-seen order. */
function queryEntries(query: URLSearchParams | string): Map<string, string[]> {
  const params = typeof query === 'string' ? new URLSearchParams(query.startsWith('?') ? query.slice(1) : query) : query;
  const out = new Map<string, string[]>();
  for (const [k, v] of params) {
    const list = out.get(k);
    if (list === undefined) out.set(k, [v]);
    else list.push(v);
  }
  return out;
}

/**
 * The proto3-JSON object for the request message of `binding` (see the module
 * comment for the rules and their order).
 *
 * @param vars Path variables from `route.match()` / `route.assemble()`.
 * @param query The query string (with or without '?') or parsed parameters.
 * @param body The parsed JSON body, or undefined when the request had none.
 * @throws HttpRuleError `invalid_body` (body "*" with a non-object body),
 *   `unknown_query_parameter` (unless `ignoreUnknownQuery`),
 *   `invalid_query_parameter` (message/map/repeated-message field, a
 *   singular field given twice or under two spellings, a bad boolean),
 *   `invalid_path_parameter` (a bad boolean in a path variable).
 */
export function buildRequestObject(
  binding: MappingBinding,
  vars: PathVars,
  query: URLSearchParams | string,
  body: unknown,
  options: RequestMappingOptions = {},
): JsonObject {
  const type = binding.requestType;
  let obj: JsonObject = {};
  const bound: string[] = [];
  if (binding.body === '*') {
    if (body !== undefined) {
      if (!isPlainObject(body)) {
        throw new HttpRuleError('invalid_body', `the request body must be a JSON object (it is the whole ${type.fullName.slice(1)} message)`);
      }
      obj = { ...body };
    }
  } else if (binding.body !== '') {
    const f = findField(type, binding.body, false);
    if (f === null) throw new HttpRuleError('invalid_body', `body field "${binding.body}" is not in ${type.fullName.slice(1)}`);
    if (body !== undefined) obj[jsonName(f)] = body;
    bound.push(f.name);
  }

  for (const [fieldPath, value] of vars) {
    const r = resolveFieldPath(type, fieldPath, false);
    if (r.error !== undefined) throw new HttpRuleError('invalid_path_parameter', `path variable {${fieldPath}}: ${r.error}`);
    const leaf = r.fields[r.fields.length - 1];
    setPath(obj, r.fields, convert(leaf, value, `path variable {${fieldPath}}`, 'invalid_path_parameter'));
    bound.push(fieldPath);
  }

  const seen = new Map<string, string>();
  for (const [name, values] of queryEntries(query)) {
    const r = resolveFieldPath(type, name, true);
    if (r.error !== undefined) {
      // A path under a field covered by the body or the path is skipped like any bound field.
      if (r.resolved.length > 0 && (binding.body === '*' || isBound(protoPath(r.resolved), bound))) continue;
      if (!r.unknown) throw new HttpRuleError('invalid_query_parameter', `query parameter "${name}": ${r.error}`);
      if (options.ignoreUnknownQuery === true) continue;
      throw new HttpRuleError('unknown_query_parameter', `query parameter "${name}": ${r.error}`);
    }
    const canonical = protoPath(r.fields);
    if (binding.body === '*' || isBound(canonical, bound)) continue;
    const leaf = r.fields[r.fields.length - 1];
    if (leaf.map || !isScalarLike(leaf)) {
      const what = leaf.map ? 'a map' : leaf.repeated ? 'a repeated message' : 'a message';
      throw new HttpRuleError('invalid_query_parameter', `query parameter "${name}": field "${canonical}" is ${what}; set its sub-fields (a.b=1) or send a body instead`);
    }
    const other = seen.get(canonical);
    if (other !== undefined) {
      throw new HttpRuleError('invalid_query_parameter', `query parameters "${other}" and "${name}" both set field "${canonical}"`);
    }
    seen.set(canonical, name);
    const what = `query parameter "${name}"`;
    if (leaf.repeated) {
      setPath(obj, r.fields, values.map((v) => convert(leaf, v, what, 'invalid_query_parameter')));
    } else {
      if (values.length > 1) {
        throw new HttpRuleError('invalid_query_parameter', `${what} is given ${values.length} times but field "${canonical}" is not repeated`);
      }
      setPath(obj, r.fields, convert(leaf, values[0], what, 'invalid_query_parameter'));
    }
  }
  return obj;
}
