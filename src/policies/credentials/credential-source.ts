import type { RequestContext } from '../../ingress/request-context.js';

/** Where a credential is read from. */
export const enum SourceKind { Header, Query, Cookie }

/**
 * One place a credential may come from, parsed from `header:NAME[:SCHEME]`,
 * `query:NAME` or `cookie:NAME` (e.g. `header:authorization:Bearer`).
 */
export interface CredentialSource {
  readonly kind: SourceKind;
  /** Header name (lower-case), query parameter or cookie name. */
  readonly name: string;
  /** Authorization scheme the header value must start with ('' for none), lower-case. */
  readonly scheme: string;
  /** The spec as written, for errors and logs. */
  readonly label: string;
}

/** A credential found in the request, and where. */
export interface FoundCredential {
  readonly value: string;
  readonly source: CredentialSource;
}

/** Two credentials of the same kind (two headers, a header and a query key that differ). */
export const DUPLICATE = 'duplicate' as const;

const TOKEN_CHARS = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Parses `header:NAME[:SCHEME]`, `query:NAME`, `cookie:NAME`.
 *
 * @returns the source, or a message saying what is wrong.
 */
export function parseSource(spec: string): CredentialSource | string {
  const parts = spec.split(':');
  const where = parts[0];
  const name = parts[1] ?? '';
  if (name === '') return `"${spec}": expected header:NAME[:SCHEME], query:NAME or cookie:NAME`;
  if (where === 'header') {
    if (parts.length > 3) return `"${spec}": expected header:NAME[:SCHEME]`;
    if (!TOKEN_CHARS.test(name)) return `"${spec}": "${name}" is not a valid header name`;
    const scheme = parts[2] ?? '';
    if (scheme !== '' && !TOKEN_CHARS.test(scheme)) return `"${spec}": "${scheme}" is not a valid authorization scheme`;
    return { kind: SourceKind.Header, name: name.toLowerCase(), scheme: scheme.toLowerCase(), label: spec };
  }
  if (parts.length > 2) return `"${spec}": expected ${where}:NAME`;
  if (where === 'query') return { kind: SourceKind.Query, name, scheme: '', label: spec };
  if (where === 'cookie') {
    if (!TOKEN_CHARS.test(name)) return `"${spec}": "${name}" is not a valid cookie name`;
    return { kind: SourceKind.Cookie, name, scheme: '', label: spec };
  }
  return `"${spec}": unknown source "${where}" (header, query or cookie)`;
}

/**
 * Finds the request's credential among `sources`. Returns null when there
 * is none, {@link DUPLICATE} when the request carries two (the same header
 * or query parameter twice, or two sources whose values differ): a gateway
 * must not pick one of two identities. A header whose scheme differs (e.g.
 * `Basic` where `Bearer` is expected) is not a credential of this kind.
 */
export function findCredential(ctx: RequestContext, sources: readonly CredentialSource[]): FoundCredential | typeof DUPLICATE | null {
  let found: FoundCredential | null = null;
  for (let s = 0; s < sources.length; s++) {
    const source = sources[s];
    let value: string | null | typeof DUPLICATE;
    if (source.kind === SourceKind.Header) value = headerCredential(ctx, source);
    else if (source.kind === SourceKind.Query) value = queryCredential(ctx, source.name);
    else value = cookieCredential(ctx, source.name);
    if (value === null) continue;
    if (value === DUPLICATE) return DUPLICATE;
    if (found === null) found = { value, source };
    else if (found.value !== value) return DUPLICATE;
  }
  return found;
}

function headerCredential(ctx: RequestContext, source: CredentialSource): string | null | typeof DUPLICATE {
  const names = ctx.headerNames;
  let value: string | null = null;
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== source.name) continue;
    if (value !== null) return DUPLICATE;
    value = ctx.headerValues[i];
  }
  if (value === null) return null;
  // why: uWS joins nothing, but a proxy in front may have folded two values
  // into one line; a comma cannot occur in a token68 credential.
  if (value.includes(',')) return DUPLICATE;
  if (source.scheme === '') {
    const v = value.trim();
    return v === '' ? null : v;
  }
  const sl = source.scheme.length;
  let i = 0;
  while (i < value.length && value.charCodeAt(i) === 32) i++;
  if (value.length <= i + sl || !schemeAt(value, i, source.scheme) || value.charCodeAt(i + sl) !== 32) return null;
  const token = value.slice(i + sl + 1).trim();
  return token === '' ? null : token;
}

/** Whether `value` has `scheme` (lower-case letters/token chars) at `at`, ASCII case-insensitively, without allocating. */
function schemeAt(value: string, at: number, scheme: string): boolean {
  for (let k = 0; k < scheme.length; k++) {
    let c = value.charCodeAt(at + k);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== scheme.charCodeAt(k)) return false;
  }
  return true;
}

function queryCredential(ctx: RequestContext, name: string): string | null | typeof DUPLICATE {
  const q = ctx.query;
  if (q === '') return null;
  // why: parsing allocates; a query that cannot spell the name (not even
  // percent- or plus-encoded) skips it.
  if (!q.includes(name) && !q.includes('%') && !q.includes('+')) return null;
  const all = ctx.queryParamAll(name);
  if (all.length === 0) return null;
  if (all.length > 1) return DUPLICATE;
  return all[0] === '' ? null : all[0];
}

function cookieCredential(ctx: RequestContext, name: string): string | null | typeof DUPLICATE {
  let value: string | null = null;
  const names = ctx.headerNames;
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== 'cookie') continue;
    // why: splitting allocates; a cookie line without the name cannot hold it.
    if (!ctx.headerValues[i].includes(name)) continue;
    const pairs = ctx.headerValues[i].split(';');
    for (let p = 0; p < pairs.length; p++) {
      const pair = pairs[p];
      const eq = pair.indexOf('=');
      if (eq < 0 || pair.slice(0, eq).trim() !== name) continue;
      let v = pair.slice(eq + 1).trim();
      if (v.length >= 2 && v.charCodeAt(0) === 34 && v.charCodeAt(v.length - 1) === 34) v = v.slice(1, -1);
      if (value !== null && value !== v) return DUPLICATE;
      value = v;
    }
  }
  return value === '' ? null : value;
}

/**
 * Removes the credential from what goes upstream (`hideCredentials`): the
 * header, the query parameter, or the one cookie (other cookies stay).
 */
export function hideCredential(ctx: RequestContext, source: CredentialSource): void {
  if (source.kind === SourceKind.Header) ctx.removeHeader(source.name);
  else if (source.kind === SourceKind.Query) ctx.removeQueryParam(source.name);
  else removeCookie(ctx, source.name);
}

function removeCookie(ctx: RequestContext, name: string): void {
  const names = ctx.headerNames;
  for (let i = names.length - 1; i >= 0; i--) {
    if (names[i] !== 'cookie') continue;
    const kept = ctx.headerValues[i].split(';').filter((pair) => {
      const eq = pair.indexOf('=');
      return (eq < 0 ? pair : pair.slice(0, eq)).trim() !== name;
    });
    if (kept.length === 0) { names.splice(i, 1); ctx.headerValues.splice(i, 1); } else ctx.headerValues[i] = kept.join(';').trim();
  }
}
