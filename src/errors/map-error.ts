import { ErrorCodes } from './codes.js';
import { GatewayError } from './gateway-error.js';
import { UPSTREAM_TLS_ERROR_CODE, tlsFailureReason } from './tls-failure.js';

/**
 * How an upstream failure counts for passive health checks. `tls` (a failed
 * handshake or certificate check) counts like `connect`: nothing reached the
 * upstream's application.
 */
export type FailureKind = 'connect' | 'tls' | 'timeout' | 'reset' | 'other';

/** Classifies an error from undici (or the socket layer) for health accounting. */
export function failureKind(err: unknown): FailureKind {
  const code = errorCode(err);
  switch (code) {
    case 'ECONNREFUSED': case 'EHOSTUNREACH': case 'ENETUNREACH': case 'ENOTFOUND': case 'EAI_AGAIN':
      return 'connect';
    case UPSTREAM_TLS_ERROR_CODE:
      return 'tls';
    case 'UND_ERR_CONNECT_TIMEOUT': case 'UND_ERR_HEADERS_TIMEOUT': case 'UND_ERR_BODY_TIMEOUT': case 'TURNPIKE_REQUEST_TIMEOUT':
      return 'timeout';
    case 'ECONNRESET': case 'EPIPE': case 'UND_ERR_SOCKET':
      return 'reset';
    default:
      return tlsFailureReason(err) !== null ? 'tls' : 'other';
  }
}

/**
 * The one mapper from upstream-side errors (undici, sockets, timers) to the
 * client-facing error: connect failures → 502, TLS failures (handshake,
 * certificate verification) → 502 `upstream_tls` with a short safe reason,
 * timeouts → 504, a closed or destroyed pool → 503, a malformed upstream
 * response → 502.
 */
export function mapUpstreamError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = errorCode(err);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new GatewayError(ErrorCodes.UPSTREAM_TIMEOUT, 'Timed out connecting to the upstream', { cause: err });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new GatewayError(ErrorCodes.UPSTREAM_TIMEOUT, 'The upstream did not send response headers in time', { cause: err });
    case 'UND_ERR_BODY_TIMEOUT': case 'TURNPIKE_REQUEST_TIMEOUT':
      return new GatewayError(ErrorCodes.UPSTREAM_TIMEOUT, 'The upstream did not complete the response in time', { cause: err });
    case 'UND_ERR_DESTROYED': case 'UND_ERR_CLOSED':
      return new GatewayError(ErrorCodes.UPSTREAM_UNAVAILABLE, 'The upstream pool is closed', { cause: err });
    case 'HPE_INVALID_CONSTANT': case 'HPE_INVALID_HEADER_TOKEN': case 'HPE_INVALID_STATUS':
    case 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH': case 'UND_ERR_INFO':
      return new GatewayError(ErrorCodes.UPSTREAM_BAD_RESPONSE, 'The upstream sent a malformed response', { cause: err });
    default: {
      const tls = tlsFailureReason(err);
      if (tls !== null) return new GatewayError(ErrorCodes.UPSTREAM_TLS, tls, { cause: err });
      if (typeof code === 'string' && code.startsWith('HPE_')) {
        return new GatewayError(ErrorCodes.UPSTREAM_BAD_RESPONSE, 'The upstream sent a malformed response', { cause: err });
      }
      return new GatewayError(ErrorCodes.UPSTREAM_CONNECT_FAILED,
        code ? 'Upstream connection failed (' + code + ')' : 'Upstream connection failed', { cause: err });
    }
  }
}

function errorCode(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; cause?: { code?: unknown } };
  if (typeof e.code === 'string' && e.code !== 'UND_ERR_SOCKET') return e.code;
  if (e.cause && typeof e.cause.code === 'string') return e.cause.code;
  return typeof e.code === 'string' ? e.code : undefined;
}
