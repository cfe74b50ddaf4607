/**
 * Building the path sent upstream: `stripPrefix`, `rewrite` templates and the
 * query string. Templates are compiled once per route; per request building is
 * a concat loop.
 */
import type { ForwardPlan } from './forward-plan.js';

/** A compiled rewrite template: `literals[0] + p(0) + literals[1] + ... + literals[n]`. */
export interface RewriteTemplate {
  /** `parts.length + 1` literal chunks. */
  readonly literals: readonly string[];
  /** For each substitution, the index into the route's params array. */
  readonly parts: readonly number[];
  /** For each substitution, whether the value is a decoded `:param` (re-encoded on output) or the raw `*` rest. */
  readonly encode: readonly boolean[];
}

function isNameChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 45;
}

/**
 * Compiles a rewrite template such as `/v1/users/:id/*` against the route's
 * capture names. `:name` runs over `[A-Za-z0-9_-]`; `*` inserts the wildcard
 * capture.
 *
 * @throws Error when the template references a capture the pattern lacks.
 */
export function compileRewrite(template: string, paramNames: readonly string[]): RewriteTemplate {
  const literals: string[] = [];
  const parts: number[] = [];
  const encode: boolean[] = [];
  let lit = '';
  let i = 0;
  while (i < template.length) {
    const c = template.charCodeAt(i);
    if (c === 58 /* : */ && i + 1 < template.length && isNameChar(template.charCodeAt(i + 1))) {
      let j = i + 1;
      while (j < template.length && isNameChar(template.charCodeAt(j))) j++;
      const name = template.slice(i + 1, j);
      const idx = paramNames.indexOf(name);
      if (idx === -1 || name === '*') throw new Error(`rewrite "${template}" uses ":${name}" which the path pattern does not capture`);
      literals.push(lit);
      parts.push(idx);
      encode.push(true);
      lit = '';
      i = j;
    } else if (c === 42 /* * */) {
      const idx = paramNames.indexOf('*');
      if (idx === -1) throw new Error(`rewrite "${template}" uses "*" but the path pattern has no wildcard`);
      literals.push(lit);
      parts.push(idx);
      encode.push(false);
      lit = '';
      i++;
    } else {
      lit += template[i];
      i++;
    }
  }
  literals.push(lit);
  return { literals, parts, encode };
}

// why: a lookup table instead of a regex; 1 = may appear unescaped in a path
// segment (RFC 3986 pchar: unreserved, sub-delims, ':' and '@').
const PCHAR = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  PCHAR[c] = /[A-Za-z0-9\-._~!$&'()*+,;=:@]/.test(ch) ? 1 : 0;
}

/**
 * Makes a (decoded) param value safe to put into a path segment. Values that
 * are already plain pchars are returned as-is (no allocation); others (space,
 * `/`, `%`, non-ASCII, ...) go through encodeURIComponent.
 */
export function encodePathParam(value: string): string {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || PCHAR[c] === 0) {
      try {
        return encodeURIComponent(value);
      } catch {
        return value; // lone surrogate: forward unchanged rather than fail
      }
    }
  }
  return value;
}

/**
 * Removes `prefix` (normalised: no trailing slash, not `/`) from `path` when it
 * is present on a segment boundary; the result is at least `/`.
 */
export function stripPathPrefix(path: string, prefix: string): string {
  const n = prefix.length;
  if (!path.startsWith(prefix)) return path;
  if (path.length === n) return '/';
  if (path.charCodeAt(n) !== 47) return path; // `/apiary` does not lose `/api`
  return path.slice(n);
}

/**
 * The path (plus query) to send upstream for a matched route.
 *
 * - `rewrite` set: the template with `:name` replaced by the (re-encoded)
 *   param value and `*` by the raw wildcard rest. `rewrite` wins over
 *   `stripPrefix` if both are set.
 * - `stripPrefix` set: the prefix removed on a segment boundary (`/api/x` →
 *   `/x`, `/api` → `/`, `/apiary` unchanged).
 * - neither: the raw path unchanged.
 *
 * Then `?` + `rawQuery` is appended when `rawQuery` is non-empty.
 *
 * @param params the array filled by `router.match` for this route
 * @param rawPath the raw request path, without query string
 * @param rawQuery the raw query string without the leading `?` ('' when none)
 */
export function buildUpstreamPath(route: ForwardPlan, params: readonly string[], rawPath: string, rawQuery: string): string {
  let out: string;
  const tpl = route.rewriteTemplate;
  if (tpl !== null) {
    const lits = tpl.literals;
    const parts = tpl.parts;
    out = lits[0];
    for (let i = 0; i < parts.length; i++) {
      const v = params[parts[i]] ?? '';
      out += (tpl.encode[i] ? encodePathParam(v) : v) + lits[i + 1];
    }
    if (out.length === 0) out = '/';
  } else if (route.stripPrefixNormalised !== null) {
    out = stripPathPrefix(rawPath, route.stripPrefixNormalised);
  } else {
    out = rawPath;
  }
  return rawQuery.length === 0 ? out : out + '?' + rawQuery;
}
