/**
 * Every client-facing error the gateway produces, in one place. `code` is the
 * stable identifier clients may switch on; it also forms the problem `type` URI.
 */
export const ErrorCodes = {
  ROUTE_NOT_FOUND: { code: 'route_not_found', status: 404, title: 'No route matches the request' },
  METHOD_NOT_ALLOWED: { code: 'method_not_allowed', status: 405, title: 'Method not allowed on this path' },
  BAD_REQUEST: { code: 'bad_request', status: 400, title: 'Malformed request' },
  PAYLOAD_TOO_LARGE: { code: 'payload_too_large', status: 413, title: 'Request body too large' },
  HEADERS_TOO_LARGE: { code: 'request_header_fields_too_large', status: 431, title: 'Request header fields too large' },
  UPSTREAM_CONNECT_FAILED: { code: 'upstream_connect_failed', status: 502, title: 'Could not connect to the upstream' },
  UPSTREAM_BAD_RESPONSE: { code: 'upstream_bad_response', status: 502, title: 'The upstream sent an invalid response' },
  UPSTREAM_UNAVAILABLE: { code: 'upstream_unavailable', status: 503, title: 'No healthy upstream target' },
  /** The upstream's discovered target set is empty (service discovery found no target). */
  NO_HEALTHY_TARGET: { code: 'no_healthy_target', status: 503, title: 'The upstream has no target' },
  UPSTREAM_BODY_BACKLOG: { code: 'upstream_body_backlog', status: 503, title: 'The upstream is not accepting the request body fast enough' },
  CIRCUIT_OPEN: { code: 'circuit_open', status: 503, title: 'The upstream circuit breaker is open' },
  UPSTREAM_OVERLOADED: { code: 'upstream_overloaded', status: 503, title: 'The upstream is at its concurrency limit' },
  UPSTREAM_TIMEOUT: { code: 'upstream_timeout', status: 504, title: 'The upstream did not answer in time' },
  NOT_CACHED: { code: 'not_cached', status: 504, title: 'The response is not in the cache' },
  UPSTREAM_RESPONSE_TOO_LARGE: { code: 'upstream_response_too_large', status: 502, title: 'The upstream response is larger than a response policy may buffer' },
  RATE_LIMITED: { code: 'rate_limited', status: 429, title: 'Too many requests' },
  CORS_FORBIDDEN: { code: 'cors_forbidden', status: 403, title: 'Cross-origin request not allowed' },
  IP_FORBIDDEN: { code: 'ip_forbidden', status: 403, title: 'The client address is not allowed' },
  RATE_LIMIT_UNAVAILABLE: { code: 'rate_limit_unavailable', status: 503, title: 'The rate-limit store is unavailable' },
  TRANSCODE_BAD_REQUEST: { code: 'invalid_argument', status: 400, title: 'The request does not map to the gRPC method' },
  UPSTREAM_TLS: { code: 'upstream_tls', status: 502, title: 'The TLS handshake with the upstream failed' },
  UNAUTHORIZED: { code: 'unauthorized', status: 401, title: 'Authentication required' },
  INVALID_TOKEN: { code: 'invalid_token', status: 401, title: 'The access token is not valid' },
  INVALID_API_KEY: { code: 'invalid_api_key', status: 401, title: 'The API key is not valid' },
  DUPLICATE_CREDENTIALS: { code: 'duplicate_credentials', status: 401, title: 'More than one credential of the same kind' },
  INSUFFICIENT_SCOPE: { code: 'insufficient_scope', status: 403, title: 'The access token lacks a required scope' },
  AUTH_PROVIDER_UNAVAILABLE: { code: 'auth_provider_unavailable', status: 503, title: 'The identity provider is unavailable' },
  ACL_FORBIDDEN: { code: 'acl_forbidden', status: 403, title: 'The consumer is not allowed on this route' },
  CLIENT_CERT_REQUIRED: { code: 'client_cert_required', status: 401, title: 'A verified client certificate is required' },
  INVALID_JSON: { code: 'invalid_json', status: 400, title: 'The request body is not valid JSON' },
  VALIDATION_FAILED: { code: 'validation_failed', status: 400, title: 'The request does not match the route\'s schema' },
  UNSUPPORTED_MEDIA_TYPE: { code: 'unsupported_media_type', status: 415, title: 'The request body\'s content type is not accepted here' },
  CLIENT_CERT_FORBIDDEN: { code: 'client_cert_forbidden', status: 403, title: 'The client certificate is not allowed on this route' },
  AGGREGATE_CALL_FAILED: { code: 'aggregate_call_failed', status: 502, title: 'A call of the aggregate failed' },
  AGGREGATE_NOT_FOUND: { code: 'aggregate_not_found', status: 404, title: 'A call of the aggregate found nothing' },
  AGGREGATE_TIMEOUT: { code: 'aggregate_timeout', status: 504, title: 'The aggregate did not complete in time' },
  SHUTTING_DOWN: { code: 'shutting_down', status: 503, title: 'The gateway is shutting down' },
  INTERNAL: { code: 'internal_error', status: 500, title: 'Internal gateway error' },
  UNSUPPORTED_CONTENT_ENCODING: { code: 'unsupported_content_encoding', status: 415, title: 'The request body\'s Content-Encoding is not supported here' },
  UPSTREAM_INVALID_JSON: { code: 'upstream_invalid_json', status: 502, title: 'The upstream response is not valid JSON' },
} as const;

/**
 * A gRPC status from a transcoded call, as a client-facing error: code
 * `grpc_<status>` (e.g. `grpc_not_found`), HTTP status as Google's APIs map
 * it (src/transcode/grpc-client/status-map.ts). Built once per status.
 */
export function grpcErrorCode(statusName: string, httpStatus: number): { code: string; status: number; title: string } {
  const key = statusName + ':' + httpStatus;
  let c = GRPC_CODES.get(key);
  if (c === undefined) {
    c = { code: 'grpc_' + statusName.toLowerCase(), status: httpStatus, title: 'The gRPC upstream answered ' + statusName };
    GRPC_CODES.set(key, c);
  }
  return c;
}
const GRPC_CODES = new Map<string, { code: string; status: number; title: string }>();

/** One entry of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | ReturnType<typeof grpcErrorCode>;
