/**
 * Wire details of gRPC over HTTP/2 that are not framing: the grpc-timeout
 * header, reading grpc-status / grpc-message / grpc-status-details-bin, and
 * RST_STREAM codes → gRPC codes.
 */
import http2 from 'node:http2';
import { GrpcCode } from './status-map.js';

/** Final outcome of a call, without the response message. */
export interface GrpcStatus {
  /** gRPC status code (see GrpcCode). */
  status: number;
  /** grpc-message, percent-decoded ('' when absent). */
  message: string;
  /** Response headers (lower-case names, no pseudo-headers; repeated values joined by ', '). */
  headers: Record<string, string>;
  /** Response trailers, same form; for a trailers-only response the single header block is here. */
  trailers: Record<string, string>;
  /** grpc-status-details-bin, base64-decoded (a serialised google.rpc.Status), or null. */
  details: Uint8Array | null;
  /**
   * Whether the request went out on an HTTP/2 stream. False when the call
   * ended before that (connect failure, channel down or closed, cancelled or
   * out of time while queued): the server never saw it, so it is safe to send
   * it to another target.
   */
  sent: boolean;
  /**
   * The connection error behind an UNAVAILABLE that came from the transport
   * (failed connect, channel in backoff after one, connection lost), e.g. an
   * UpstreamTlsError for a failed TLS handshake; null otherwise.
   */
  cause: Error | null;
}

/** Outcome of a unary call. */
export interface GrpcResult extends GrpcStatus {
  /** The response message when status is OK, else null. */
  response: Uint8Array | null;
}

const TIMEOUT_UNITS: ReadonlyArray<readonly [string, number]> = [['m', 1], ['S', 1000], ['M', 60_000], ['H', 3_600_000]];

/**
 * grpc-timeout for a deadline `ms` from now: the most precise unit whose
 * value fits the 8 digits the spec allows, rounded up (as grpc-js does):
 * 5000 → `5000m`, 200000000 → `200000S`.
 */
export function encodeGrpcTimeout(ms: number): string {
  const value = Math.max(0, ms);
  for (const [unit, factor] of TIMEOUT_UNITS) {
    const amount = Math.ceil(value / factor);
    if (amount < 100_000_000) return String(amount) + unit;
  }
  return '99999999H';
}

/** Percent-decodes grpc-message; a malformed escape leaves the text as received. */
export function decodeGrpcMessage(raw: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/** Node's incoming header block → plain record (pseudo-headers dropped). */
export function headerRecord(block: http2.IncomingHttpHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (block === undefined) return out;
  for (const name of Object.keys(block)) {
    if (name.charCodeAt(0) === 58) continue;
    const value = block[name];
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** grpc-status from a header block: the code, undefined when absent, UNKNOWN when malformed. */
export function readGrpcStatus(block: Record<string, string>): number | undefined {
  const raw = block['grpc-status'];
  if (raw === undefined) return undefined;
  const code = /^\d{1,2}$/.test(raw.trim()) ? Number(raw.trim()) : -1;
  return code >= 0 && code <= 16 ? code : GrpcCode.UNKNOWN;
}

/** grpc-status-details-bin decoded, or null. */
export function readStatusDetails(block: Record<string, string>): Uint8Array | null {
  const raw = block['grpc-status-details-bin'];
  if (raw === undefined || raw === '') return null;
  return Buffer.from(raw, 'base64');
}

const {
  NGHTTP2_REFUSED_STREAM, NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_INADEQUATE_SECURITY,
} = http2.constants;

/** The gRPC code and message for a stream reset by the peer (as grpc-js maps them). */
export function statusFromRstCode(rstCode: number, target: string): { code: number; message: string } {
  switch (rstCode) {
    case NGHTTP2_REFUSED_STREAM:
      return { code: GrpcCode.UNAVAILABLE, message: `Stream refused by ${target}` };
    case NGHTTP2_CANCEL:
      return { code: GrpcCode.CANCELLED, message: `Call cancelled by ${target}` };
    case NGHTTP2_ENHANCE_YOUR_CALM:
      return { code: GrpcCode.RESOURCE_EXHAUSTED, message: `${target} reset the stream: bandwidth exhausted or memory limit exceeded` };
    case NGHTTP2_INADEQUATE_SECURITY:
      return { code: GrpcCode.PERMISSION_DENIED, message: `${target} reset the stream: protocol not secure enough` };
    default:
      return { code: GrpcCode.INTERNAL, message: `${target} reset the stream with HTTP/2 error code ${rstCode}` };
  }
}
