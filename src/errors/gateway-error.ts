import type { ErrorCode } from './codes.js';

/** The one error type the request path produces; rendered as problem+json. */
export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  readonly title: string;
  /** Human detail for this occurrence (safe to show to the client). */
  readonly detail: string | undefined;

  constructor(kind: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ?? kind.title, options);
    this.name = 'GatewayError';
    this.code = kind.code;
    this.status = kind.status;
    this.title = kind.title;
    this.detail = detail;
  }
}
