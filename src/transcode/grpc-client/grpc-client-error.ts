/**
 * The error type of the gRPC client for mistakes by the caller (bad target,
 * bad method path, metadata that cannot be sent). Transport and server
 * outcomes are never thrown: they come back as a gRPC status.
 */

/** Stable codes of {@link GrpcClientError}. */
export type GrpcClientErrorCode = 'invalid_target' | 'invalid_path' | 'invalid_metadata' | 'already_consumed';

/** A caller error; `code` is stable, the message names the offending value. */
export class GrpcClientError extends Error {
  readonly code: GrpcClientErrorCode;

  constructor(code: GrpcClientErrorCode, message: string) {
    super(message);
    this.name = 'GrpcClientError';
    this.code = code;
  }
}
