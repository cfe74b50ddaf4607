import type { ErrorCode } from './codes.js';

/** The one error type the request path produces; rendered as problem+json. */
export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  /** Human detail for this occurrence (safe to show to the client). */
  readonly detail: string | undefined;
  /**
   * Extra problem members as serialised JSON object members, starting with a
   * comma (e.g. `,"grpcStatus":"NOT_FOUND"`), or '' (RFC 9457 extension members).
   */
  extraMembers = '';

  constructor(kind: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    // why: a GatewayError is an expected outcome rendered to the client, not a
    // bug; capturing its stack cost ~5-10 µs per error (micro-bench) and the
    // undici cause keeps its own. Turning capture off only around super().
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      super(detail ?? kind.title, options);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'GatewayError';
    this.code = kind.code;
    this.status = kind.status;
    this.title = kind.title;
    this.detail = detail;
  }
}
