/**
 * gRPC status codes, their names, the gRPC → HTTP table Google's APIs use
 * (google.rpc.Code), the HTTP → gRPC table gRPC clients apply to non-gRPC
 * responses, and the mapping between HTTP headers and gRPC metadata.
 */
import { GrpcClientError } from './grpc-client-error.js';

/** gRPC status codes (google.rpc.Code). */
export const GrpcCode = {
  OK: 0, CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5,
  ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10,
  OUT_OF_RANGE: 11, UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
} as const;

/** One of the {@link GrpcCode} values. */
export type GrpcCodeValue = (typeof GrpcCode)[keyof typeof GrpcCode];

const CODE_NAMES: readonly string[] = Object.keys(GrpcCode);

// Indexed by gRPC code; google.rpc.Code's documented HTTP mapping.
const HTTP_BY_CODE: readonly number[] = [
  200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401,
];

/** `NOT_FOUND` for 5 and so on; codes outside 0..16 are named `UNKNOWN`. */
export function grpcCodeName(code: number): string {
  return Number.isInteger(code) && code >= 0 && code < CODE_NAMES.length ? CODE_NAMES[code] : 'UNKNOWN';
}

/** The HTTP status Google's APIs answer for a gRPC code (unknown codes → 500). */
export function httpStatusFromGrpc(code: number): number {
  return Number.isInteger(code) && code >= 0 && code < HTTP_BY_CODE.length ? HTTP_BY_CODE[code] : 500;
}

/**
 * The gRPC code a gRPC client reports when the server answers a non-200 HTTP
 * status (gRPC's http-grpc-status-mapping.md, as grpc-go and grpc-js do).
 */
export function grpcStatusFromHttp(httpStatus: number): GrpcCodeValue {
  switch (httpStatus) {
    case 400: return GrpcCode.INTERNAL;
    case 401: return GrpcCode.UNAUTHENTICATED;
    case 403: return GrpcCode.PERMISSION_DENIED;
    case 404: return GrpcCode.UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return GrpcCode.UNAVAILABLE;
    default: return GrpcCode.UNKNOWN;
  }
}

// Connection-specific or owned by the gRPC/HTTP/2 layer: never metadata.
const RESERVED = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer',
  'host', 'content-length', 'content-type', 'content-encoding', 'user-agent', 'http2-settings',
  'proxy-authenticate', 'proxy-authorization',
]);

const METADATA_NAME = /^[0-9a-z_.-]+$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/**
 * True for names that must not travel as metadata: pseudo-headers (`:`),
 * `grpc-*`, hop-by-hop headers, and names the client sets itself.
 */
export function isReservedMetadataName(name: string): boolean {
  return name.length === 0 || name.charCodeAt(0) === 58 /* : */ || name.startsWith('grpc-') || RESERVED.has(name);
}

/**
 * Checks one metadata value for the wire and returns it as sent: printable
 * ASCII for text keys; for `-bin` keys either bytes (base64-encoded here) or
 * a base64 string (standard or URL-safe, padding optional; re-encoded as
 * standard base64). Throws {@link GrpcClientError} `invalid_metadata`.
 */
export function metadataWireValue(name: string, value: string | Uint8Array): string {
  if (name.endsWith('-bin')) {
    if (typeof value !== 'string') return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
    const text = value.trim();
    if (!BASE64.test(text)) {
      throw new GrpcClientError('invalid_metadata', `Metadata "${name}" is a binary (-bin) key but its value is not base64`);
    }
    return Buffer.from(text, 'base64').toString('base64');
  }
  if (typeof value !== 'string') {
    throw new GrpcClientError('invalid_metadata', `Metadata "${name}" has a binary value but its name does not end in -bin`);
  }
  if (!PRINTABLE_ASCII.test(value)) {
    throw new GrpcClientError('invalid_metadata',
      `Metadata "${name}" has a value with characters outside printable ASCII; use a -bin key for binary data`);
  }
  return value;
}

/**
 * Caller metadata → outgoing HTTP/2 headers (repeated names become arrays).
 * Throws {@link GrpcClientError} `invalid_metadata` for a reserved or
 * malformed name or an invalid value (see {@link metadataWireValue}).
 */
export function metadataToHeaders(
  metadata: ReadonlyArray<readonly [string, string | Uint8Array]> | undefined,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (metadata === undefined) return out;
  for (const [rawName, value] of metadata) {
    const name = rawName.toLowerCase();
    if (isReservedMetadataName(name) || !METADATA_NAME.test(name)) {
      throw new GrpcClientError('invalid_metadata', `Metadata name "${rawName}" is reserved or not a valid gRPC metadata key`);
    }
    const wire = metadataWireValue(name, value);
    const prev = out[name];
    out[name] = prev === undefined ? wire : Array.isArray(prev) ? [...prev, wire] : [prev, wire];
  }
  return out;
}

/** Headers as a record (node style) or as name/value pairs (e.g. zipped uWS headers). */
export type HeaderSource = Readonly<Record<string, string | readonly string[] | undefined>> | Iterable<readonly [string, string]>;

function* headerPairs(headers: HeaderSource): Generator<[string, string]> {
  if (Symbol.iterator in headers) {
    for (const [name, value] of headers as Iterable<readonly [string, string]>) yield [name, value];
    return;
  }
  for (const name of Object.keys(headers)) {
    const value = (headers as Record<string, string | readonly string[] | undefined>)[name];
    if (value === undefined) continue;
    if (typeof value === 'string') yield [name, value];
    else for (const v of value) yield [name, v];
  }
}

/**
 * Compiles an allowlist: exact lower-case names, or prefixes ending in `*`
 * (`x-tenant-*`).
 */
function allowMatcher(allowlist: readonly string[]): (name: string) => boolean {
  const exact = new Set<string>();
  const prefixes: string[] = [];
  for (const entry of allowlist) {
    const e = entry.toLowerCase();
    if (e.endsWith('*')) prefixes.push(e.slice(0, -1));
    else exact.add(e);
  }
  return function allowed(name: string): boolean {
    if (exact.has(name)) return true;
    for (const p of prefixes) if (name.startsWith(p)) return true;
    return false;
  };
}

/**
 * Request headers → gRPC metadata. Names are lower-cased; only allowlisted
 * names are kept (exact, or prefix with a trailing `*`); reserved names
 * ({@link isReservedMetadataName}) and names with characters gRPC does not
 * allow are dropped even when allowlisted. Repeated headers become repeated
 * entries. Values are validated with {@link metadataWireValue} (so a `-bin`
 * header must carry base64); throws {@link GrpcClientError}
 * `invalid_metadata` (the gateway answers 400).
 */
export function metadataFromHeaders(headers: HeaderSource, allowlist: readonly string[]): Array<[string, string]> {
  const allowed = allowMatcher(allowlist);
  const out: Array<[string, string]> = [];
  for (const [rawName, value] of headerPairs(headers)) {
    const name = rawName.toLowerCase();
    if (!allowed(name) || isReservedMetadataName(name) || !METADATA_NAME.test(name)) continue;
    if (name.endsWith('-bin')) {
      // A binary header may carry several comma-separated base64 values.
      for (const part of value.split(',')) out.push([name, metadataWireValue(name, part)]);
    } else {
      out.push([name, metadataWireValue(name, value)]);
    }
  }
  return out;
}

/**
 * gRPC response headers or trailers (as in a GrpcResult) → HTTP response
 * headers. Only allowlisted names pass (exact, or prefix with `*`); reserved
 * ones (`grpc-*` including grpc-status-details-bin, pseudo, hop-by-hop,
 * content-type/length) are always dropped. Names are written as
 * `prefix + name`: the default prefix is '' (the allowlist already names
 * exactly what may leave); pass 'grpc-metadata-' (headers) or
 * 'grpc-trailer-' (trailers) to mirror grpc-gateway. `-bin` values stay
 * base64 text, name unchanged.
 */
export function headersFromTrailers(
  trailers: Readonly<Record<string, string>>, allowlist: readonly string[], prefix = '',
): Record<string, string> {
  const allowed = allowMatcher(allowlist);
  const out: Record<string, string> = {};
  for (const rawName of Object.keys(trailers)) {
    const name = rawName.toLowerCase();
    if (!allowed(name) || isReservedMetadataName(name)) continue;
    out[prefix + name] = trailers[rawName];
  }
  return out;
}
