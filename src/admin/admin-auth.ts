import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';

/**
 * RFC 6750 `b64token` syntax: what may follow `Bearer ` in an Authorization
 * header. A configured admin token must match it (else no client could send it).
 */
export const BEARER_TOKEN_SYNTAX = /^[A-Za-z0-9\-._~+/]+=*$/;

/** SHA-256 of an admin token, lower-case hex: what the normalised config keeps (never the token). */
export function adminTokenSha256(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Outcome of {@link checkBearer}. */
export type BearerVerdict = 'ok' | 'missing' | 'invalid';

/**
 * Checks an `Authorization` header against the token digest (hex SHA-256).
 * The presented token is hashed first, so the comparison is always between
 * two 32-byte digests with `crypto.timingSafeEqual`: neither the token's
 * length nor its content leaks through timing.
 */
export function checkBearer(header: string | undefined, tokenSha256: string): BearerVerdict {
  if (header === undefined) return 'missing';
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (match === null) return 'missing';
  const presented = createHash('sha256').update(match[1], 'utf8').digest();
  return timingSafeEqual(presented, Buffer.from(tokenSha256, 'hex')) ? 'ok' : 'invalid';
}

/**
 * Admin paths served without the token: the probes (`/healthz`, `/readyz`,
 * which then shows only the verdict), and the dashboard shell, its static
 * assets and `/ui/api/session` (whether a token is needed); they hold no
 * data. The page's data calls need the token.
 */
export function isOpenAdminPath(path: string): boolean {
  return path === '/healthz' || path === '/readyz' || path === '/ui' || path === '/ui/' || path.startsWith('/ui/assets/')
    || path === '/ui/api/session';
}

/** True for `localhost`, 127.0.0.0/8, `::1` and their IPv4-mapped forms: addresses only this host reaches. */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h === 'localhost' || h === '::1') return true;
  const v4 = h.toLowerCase().startsWith('::ffff:') ? h.slice(7) : h;
  return isIP(v4) === 4 && v4.startsWith('127.');
}
