/**
 * The compiled checks of one operation (a `validate` block, or one
 * operation of an OpenAPI document) and the request-path code that runs
 * them. Query, header and path-param values arrive as strings: they are
 * gathered into a throwaway object and validated by the coercing ajv
 * instance, which converts them to the schema's types in place (integers,
 * numbers, booleans; a repeated query parameter is an array, a single value
 * of an array-typed parameter becomes a one-element array). Bodies are JSON,
 * validated as parsed.
 */
import type { ValidateFunction } from 'ajv';
import type { RequestContext } from '../../ingress/request-context.js';
import type { ValidationErrors } from './validation-errors.js';

/** Query check: a schema of the whole query object, and the split rule of non-exploded array params. */
export interface QueryCheck {
  readonly validate: ValidateFunction;
  /** Param name → delimiter for OpenAPI `explode: false` arrays (`,`, space or `|`); null when none. */
  readonly delimiters: ReadonlyMap<string, string> | null;
}

/** Header check: names that must be present, and an optional schema of the header object (lower-case names). */
export interface HeaderCheck {
  readonly required: readonly string[];
  readonly validate: ValidateFunction | null;
  /** Only these headers go into the validated object (OpenAPI header params); null = all. */
  readonly names: readonly string[] | null;
}

/** Body check: JSON only. */
export interface BodyCheck {
  readonly validate: ValidateFunction;
  /** An empty body is an error (else it is not validated). */
  readonly required: boolean;
}

/** Everything checked for one operation; a part that is not checked is null. */
export interface OperationCheck {
  /** operationId, or `METHOD /template`, or the policy name for a plain validate block. */
  readonly id: string;
  readonly params: ValidateFunction | null;
  readonly query: QueryCheck | null;
  readonly headers: HeaderCheck | null;
  readonly body: BodyCheck | null;
  /** Response schemas by status (`200`, `2XX`, `default`); null when none (or no monitor). */
  readonly responses: ReadonlyMap<string, ValidateFunction> | null;
}

/** Validates path params (`names[i]` → `values[i]`); false when invalid (errors added). */
export function checkParams(fn: ValidateFunction, names: readonly string[], values: readonly string[], errors: ValidationErrors): boolean {
  const obj: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const n = Math.min(names.length, values.length);
  for (let i = 0; i < n; i++) obj[names[i]] = values[i];
  if (fn(obj)) return true;
  errors.addAjv('/params', fn.errors);
  return false;
}

/** Validates the query string; false when invalid (errors added). */
export function checkQuery(q: QueryCheck, raw: string, errors: ValidationErrors): boolean {
  // why: a null-prototype object, so a parameter named __proto__ is just a key.
  const obj: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  if (raw.length > 0) {
    const delimiters = q.delimiters;
    for (const [name, value] of new URLSearchParams(raw)) {
      const d = delimiters === null ? undefined : delimiters.get(name);
      const v: string | string[] = d === undefined ? value : value.split(d);
      const prev = obj[name];
      if (prev === undefined) obj[name] = v;
      else if (Array.isArray(prev)) prev.push(...(Array.isArray(v) ? v : [v]));
      else obj[name] = Array.isArray(v) ? [prev as string, ...v] : [prev as string, v];
    }
  }
  if (q.validate(obj)) return true;
  errors.addAjv('/query', q.validate.errors);
  return false;
}

/** Validates the request headers; false when invalid (errors added). */
export function checkHeaders(h: HeaderCheck, ctx: RequestContext, errors: ValidationErrors): boolean {
  let ok = true;
  const names = ctx.headerNames;
  for (let r = 0; r < h.required.length; r++) {
    if (!names.includes(h.required[r])) {
      errors.add('/headers/' + h.required[r], '', '', 'is required');
      ok = false;
    }
  }
  const fn = h.validate;
  if (fn === null) return ok;
  const obj: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  const values = ctx.headerValues;
  const only = h.names;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (only !== null && !only.includes(name)) continue;
    const prev = obj[name];
    // RFC 9110 §5.3: repeated field lines are one comma-separated list.
    obj[name] = prev === undefined ? values[i] : prev + ', ' + values[i];
  }
  if (fn(obj)) return ok;
  errors.addAjv('/headers', fn.errors);
  return false;
}

/** What a body check found: valid, invalid (errors added), or not JSON at all. */
export const BODY_OK = 0;
export const BODY_INVALID = 1;
export const BODY_NOT_JSON = 2;

/** Validates a JSON request body. */
export function checkBody(b: BodyCheck, body: Buffer, errors: ValidationErrors): number {
  if (body.length === 0) {
    if (!b.required) return BODY_OK;
    errors.add('/body', '', '', 'is required');
    return BODY_INVALID;
  }
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return BODY_NOT_JSON;
  }
  let ok: boolean;
  try {
    ok = b.validate(value) as boolean;
  } catch {
    // why: a recursive schema walking a very deeply nested body can exhaust
    // the stack; that is the client's malformed input, not a gateway failure.
    errors.add('/body', '', '', 'is nested too deeply to validate');
    return BODY_INVALID;
  }
  if (ok) return BODY_OK;
  errors.addAjv('/body', b.validate.errors);
  return BODY_INVALID;
}

/** Whether a Content-Type is JSON (shared with the transform kind). */
export { isJsonType } from '../../lib/body-codec.js';
