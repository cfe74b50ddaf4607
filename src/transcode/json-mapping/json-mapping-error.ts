/**
 * The one error class of the proto3 JSON mapping, plus the helper that
 * describes an offending JSON value in messages.
 */

/**
 * Stable codes: `invalid_argument` for JSON the client sent that does not fit
 * the message type (maps to HTTP 400); `internal` for a binary message from
 * the upstream that has no valid JSON form (e.g. a Timestamp out of range, an
 * Any whose type is unknown) — a server-side fault.
 */
export type JsonMappingErrorCode = 'invalid_argument' | 'internal';

/**
 * A JSON value could not be mapped to or from a protobuf message. `message`
 * starts with the field path, e.g.
 * `book.authors[1].birth_year: expected a 32-bit integer, got "abc"`.
 * Structured cloning (worker threads) keeps only `message`: send
 * `toJSON()` across and rebuild with {@link JsonMappingError.fromJSON}.
 */
export class JsonMappingError extends Error {
  /** Stable machine-readable code. */
  readonly code: JsonMappingErrorCode;
  /** Field path of the offending value (`''` when at the top level). */
  readonly path: string;

  /** `detail` is the message without the path prefix. */
  constructor(path: string, detail: string, code: JsonMappingErrorCode = 'invalid_argument') {
    super(path === '' ? detail : `${path}: ${detail}`);
    this.name = 'JsonMappingError';
    this.code = code;
    this.path = path;
  }

  /** Plain data for postMessage/structured clone (which drops `code` and `path`). */
  toJSON(): { name: string; code: JsonMappingErrorCode; path: string; message: string } {
    return { name: this.name, code: this.code, path: this.path, message: this.message };
  }

  /** Re-creates the error from {@link JsonMappingError.toJSON} output (e.g. in the main thread). */
  static fromJSON(data: { code: JsonMappingErrorCode; path: string; message: string }): JsonMappingError {
    const prefix = data.path === '' ? '' : `${data.path}: `;
    const detail = data.message.startsWith(prefix) ? data.message.slice(prefix.length) : data.message;
    return new JsonMappingError(data.path, detail, data.code);
  }
}

/**
 * Short description of a JSON value for error messages: strings quoted
 * (truncated to 40 characters), numbers and booleans as written, `null`,
 * "an object", "an array".
 */
export function describeJson(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

/** Child path of a field: `parent.name`, or `name` at the top. */
export function fieldPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}.${name}`;
}
