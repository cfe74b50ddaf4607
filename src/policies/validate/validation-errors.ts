/**
 * The refusal of the validate kind: `400 validation_failed` with an
 * `errors` array of `{ path, message }` (RFC 9457 extension member). At most
 * {@link MAX_ERRORS} entries; the paths are JSON pointers prefixed by the
 * part (`/body/items/0/qty`, `/query/limit`, `/headers/x-source`,
 * `/params/id`). Only ajv's messages (which never quote the data) and
 * instance paths go out; the segments of a path that come from the input
 * (object keys) share a budget of {@link MAX_ECHO} bytes per response, so a
 * 10 KB key never comes back whole. ajv's `params` and `data` are never read
 * into the output, except the name of a missing required property (from the
 * schema) and of an additional property (input, within the budget).
 */
import type { ErrorObject } from 'ajv';
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';

/** Most errors listed in one refusal. */
export const MAX_ERRORS = 20;
/** Most bytes of request input (object keys in paths) one refusal echoes. */
export const MAX_ECHO = 200;
/** Longest message (ajv messages are short; a schema's long pattern is cut). */
const MAX_MESSAGE = 200;

/** The errors of one request, collected across parts. */
export class ValidationErrors {
  /** Serialised `{ "path": ..., "message": ... }` objects. */
  readonly items: string[] = [];
  /** Errors seen, including the ones beyond MAX_ERRORS. */
  total = 0;
  private echo = MAX_ECHO;

  /**
   * Adds one error. `inputPath` is the part of the path taken from the input
   * (a JSON pointer, counted against the echo budget); `schemaTail` a segment
   * from the schema (a required property name), not counted.
   */
  add(prefix: string, inputPath: string, schemaTail: string, message: string): void {
    this.total++;
    if (this.items.length >= MAX_ERRORS) return;
    let path = prefix;
    if (inputPath.length > 0) {
      const bytes = Buffer.byteLength(inputPath);
      if (bytes <= this.echo) {
        path += inputPath;
        this.echo -= bytes;
      } else {
        path += cut(inputPath, this.echo) + '…';
        this.echo = 0;
      }
    }
    if (schemaTail.length > 0) path += '/' + cut(schemaTail, 100);
    this.items.push('{"path":' + JSON.stringify(path) + ',"message":' + JSON.stringify(cut(message, MAX_MESSAGE)) + '}');
  }

  /** Adds ajv's errors for one part (`prefix` is `/body`, `/query`, ...). */
  addAjv(prefix: string, errors: readonly ErrorObject[] | null | undefined): void {
    if (errors === null || errors === undefined) return;
    for (let i = 0; i < errors.length; i++) {
      const e = errors[i];
      let tail = '';
      let inputTail = '';
      // why: a missing property's name is the schema's, safe to show; it makes
      // `/body/customer: is required` instead of `/body: must have required property 'customer'`.
      if (e.keyword === 'required') tail = String((e.params as { missingProperty?: unknown }).missingProperty ?? '');
      else if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') {
        const name = (e.params as { additionalProperty?: unknown; unevaluatedProperty?: unknown });
        inputTail = '/' + escapePointer(String(name.additionalProperty ?? name.unevaluatedProperty ?? ''));
      }
      const message = e.keyword === 'required' ? 'is required'
        : e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties' ? 'is not allowed'
        : e.message ?? 'is invalid';
      this.add(prefix, e.instancePath + inputTail, tail === '' ? '' : escapePointer(tail), message);
      if (this.total > MAX_ERRORS * 50) return; // why: an enormous error list is not read further
    }
  }

  /** The 400 problem (detail says how many errors there were). */
  toProblem(): GatewayError {
    const n = this.total;
    const err = new GatewayError(ErrorCodes.VALIDATION_FAILED,
      n === 1 ? 'The request has 1 validation error' : `The request has ${n} validation errors` + (n > this.items.length ? ` (the first ${this.items.length} are listed)` : ''));
    err.extraMembers = ',"errors":[' + this.items.join(',') + ']';
    return err;
  }
}

function escapePointer(s: string): string {
  return s.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** At most `max` bytes of `s` (UTF-8), cut on a character boundary. */
export function cut(s: string, max: number): string {
  if (s.length <= max / 3 || Buffer.byteLength(s) <= max) return s;
  let out = '';
  let bytes = 0;
  for (const ch of s) {
    const b = Buffer.byteLength(ch);
    if (bytes + b > max) break;
    out += ch;
    bytes += b;
  }
  return out;
}
