/**
 * TLS failures towards upstreams: recognising them among socket errors and
 * describing them in a short, fixed text that is safe to show a client (no
 * OpenSSL message with source paths, no host names from the config).
 */

/** Code of {@link UpstreamTlsError}. */
export const UPSTREAM_TLS_ERROR_CODE = 'TURNPIKE_UPSTREAM_TLS';

/**
 * A TLS handshake (or TLS-level) failure on an upstream connection, raised
 * by the upstream connector (src/upstream/precise-connector.ts) so that a
 * failure during the handshake is told apart from a refused connection,
 * and so that an alert the upstream sends after the handshake is not
 * reported as "other side closed". The original error is the `cause`.
 */
export class UpstreamTlsError extends Error {
  readonly code = UPSTREAM_TLS_ERROR_CODE;
  /** Short safe description, e.g. `certificate verify failed: self-signed certificate`. */
  readonly reason: string;

  constructor(reason: string, cause: unknown) {
    super(`upstream TLS failed: ${reason}`, { cause });
    this.name = 'UpstreamTlsError';
    this.reason = reason;
  }
}

/** OpenSSL/Node certificate verification codes and their fixed descriptions. */
const VERIFY_REASONS: Readonly<Record<string, string>> = {
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
  UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
  UNABLE_TO_DECRYPT_CERT_SIGNATURE: 'unable to decrypt certificate signature',
  UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'unable to decode issuer public key',
  CERT_SIGNATURE_FAILURE: 'certificate signature failure',
  CERT_NOT_YET_VALID: 'certificate is not yet valid',
  CERT_HAS_EXPIRED: 'certificate has expired',
  ERROR_IN_CERT_NOT_BEFORE_FIELD: 'format error in certificate notBefore field',
  ERROR_IN_CERT_NOT_AFTER_FIELD: 'format error in certificate notAfter field',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
  CERT_CHAIN_TOO_LONG: 'certificate chain too long',
  CERT_REVOKED: 'certificate revoked',
  INVALID_CA: 'invalid CA certificate',
  PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
  INVALID_PURPOSE: 'unsupported certificate purpose',
  CERT_UNTRUSTED: 'certificate not trusted',
  CERT_REJECTED: 'certificate rejected',
  HOSTNAME_MISMATCH: 'host name mismatch',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate is not valid for the server name',
};

/** Hints appended to OpenSSL error codes (matched as substrings of the code). */
const SSL_HINTS: ReadonlyArray<readonly [string, string]> = [
  ['ALERT_CERTIFICATE_REQUIRED', 'the upstream requires a client certificate'],
  ['ALERT_BAD_CERTIFICATE', 'the upstream rejected the client certificate'],
  ['ALERT_UNKNOWN_CA', 'the upstream rejected the client certificate'],
  ['ALERT_CERTIFICATE_UNKNOWN', 'the upstream rejected the client certificate'],
  ['ALERT_CERTIFICATE_EXPIRED', 'the upstream rejected the client certificate'],
  ['ALERT_CERTIFICATE_REVOKED', 'the upstream rejected the client certificate'],
  ['ALERT_UNSUPPORTED_CERTIFICATE', 'the upstream rejected the client certificate'],
  ['ALERT_HANDSHAKE_FAILURE', 'e.g. a client certificate is required, or no cipher in common'],
  ['ALERT_PROTOCOL_VERSION', 'no TLS version in common'],
  ['UNSUPPORTED_PROTOCOL', 'no TLS version in common'],
  ['NO_PROTOCOLS_AVAILABLE', 'no TLS version in common'],
  ['WRONG_VERSION_NUMBER', 'the target may not speak TLS'],
  ['PACKET_LENGTH_TOO_LONG', 'the target may not speak TLS'],
  ['HTTP_REQUEST', 'the target may not speak TLS'],
];

/**
 * The safe description of a TLS failure (the error, or its `cause`), or
 * null when the error is not one: certificate verification codes
 * (`certificate verify failed: ...`), OpenSSL errors and alerts
 * (`ERR_SSL_*`: `handshake failed: tlsv13 alert certificate required (...)`),
 * other Node TLS errors (`ERR_TLS_*`), and {@link UpstreamTlsError}.
 */
export function tlsFailureReason(err: unknown): string | null {
  if (err instanceof UpstreamTlsError) return err.reason;
  if (typeof err !== 'object' || err === null) return null;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof UpstreamTlsError) return cause.reason;
  const own = reasonOfCode((err as { code?: unknown }).code);
  if (own !== null) return own;
  return typeof cause === 'object' && cause !== null ? reasonOfCode((cause as { code?: unknown }).code) : null;
}

function reasonOfCode(code: unknown): string | null {
  if (typeof code !== 'string') return null;
  const verify = VERIFY_REASONS[code];
  if (verify !== undefined) return `certificate verify failed: ${verify}`;
  if (code.startsWith('ERR_SSL_')) {
    const text = code.slice(8).toLowerCase().replace(/_/g, ' ');
    const hint = SSL_HINTS.find(([part]) => code.includes(part));
    return `handshake failed: ${text}${hint === undefined ? '' : ` (${hint[1]})`}`;
  }
  if (code.startsWith('ERR_TLS_')) return `handshake failed (${code})`;
  return null;
}
