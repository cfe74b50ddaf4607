import { ErrorCodes, type ErrorCode } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../ingress/request-context.js';

/**
 * A refused credential: a problem+json error (401 by default) with a
 * `WWW-Authenticate` challenge naming the scheme (RFC 9110 §11.6.1, RFC
 * 6750 §3 for Bearer) and, when given, a machine-readable `reason`
 * extension member (`expired`, `bad_signature`, ...). The detail is
 * safe for the client: never a stack or library message.
 *
 * @param scheme e.g. `Bearer`, `ApiKey`.
 * @param error RFC 6750 error (`invalid_token`, `invalid_request`, `insufficient_scope`) or '' for none.
 * @param params further auth-params, already formatted (e.g. `scope="read write"`), or '' for none.
 */
export function challenge(ctx: RequestContext, kind: ErrorCode, scheme: string, realm: string, error: string,
  reason: string, detail?: string, params = ''): GatewayError {
  let value = scheme + ' realm="' + realm + '"';
  if (error !== '') value += ', error="' + error + '"';
  if (reason !== '') value += ', error_description="' + reason + '"';
  if (params !== '') value += ', ' + params;
  ctx.addResponseHeader('www-authenticate', value);
  const err = new GatewayError(kind, detail);
  if (reason !== '') err.extraMembers = ',"reason":"' + reason + '"';
  return err;
}

/** The 401 for two credentials of one kind in a request. */
export function duplicateCredentials(ctx: RequestContext, scheme: string, realm: string): GatewayError {
  return challenge(ctx, ErrorCodes.DUPLICATE_CREDENTIALS, scheme, realm, 'invalid_request', 'duplicate_credentials',
    'The request carries more than one credential of this kind');
}
