import { BEARER_TOKEN_SYNTAX } from '../admin/admin-auth.js';
import type { ConfigPath } from './issues.js';
import { readSecret, secretProblem } from './secrets.js';

/**
 * Checks `admin.token`: a readable secret reference (`env:NAME`, `file:PATH`
 * or the token itself) whose value is a bearer token (RFC 6750 `b64token`),
 * since a client could not send anything else. The value is never quoted.
 */
export function checkAdminToken(ref: unknown, issue: (path: ConfigPath, message: string) => void,
  env: NodeJS.ProcessEnv = process.env): void {
  if (typeof ref !== 'string' || ref === '') return; // the schema reports the type
  const at: ConfigPath = ['admin', 'token'];
  const problem = secretProblem(ref, env);
  if (problem !== null) issue(at, problem);
  else if (!BEARER_TOKEN_SYNTAX.test(readSecret(ref, env))) issue(at, 'must be a bearer token (letters, digits, -._~+/ and trailing =)');
}
