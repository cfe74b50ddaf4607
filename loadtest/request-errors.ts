/**
 * Request failures of a load test, counted by kind.
 */

/** Failed requests by kind. A 5xx response is also counted in `completed`. */
export interface OpenLoopErrors {
  /** Connection refused / unreachable / connect timeout. */
  connect: number;
  /** Headers or body timeout. */
  timeout: number;
  /** Responses with status >= 500. */
  status5xx: number;
  /** Responses with status 400–499. */
  status4xx: number;
  /** Anything else (socket reset, parser error, ...). */
  other: number;
}

/** Classifies a request error by its undici / libuv code. */
export function classifyError(err: Error & { code?: string }): 'connect' | 'timeout' | 'other' {
  switch (err.code) {
    case 'ECONNREFUSED': case 'EHOSTUNREACH': case 'ENETUNREACH': case 'ENOTFOUND':
    case 'EADDRNOTAVAIL': case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connect';
    case 'UND_ERR_HEADERS_TIMEOUT': case 'UND_ERR_BODY_TIMEOUT': case 'ETIMEDOUT':
      return 'timeout';
    default:
      return 'other';
  }
}
