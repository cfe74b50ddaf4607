/**
 * Origins of the cors kind: parsing the configured entries (config time,
 * regexes allowed) and matching a request's `Origin` header against them
 * (request time: one Set lookup plus prefix/suffix checks, no regex).
 *
 * A serialised origin (RFC 6454, WHATWG URL) is `scheme://host[:port]`, all
 * lower-case ASCII (hosts in punycode), without the scheme's default port.
 * Configured origins are brought to that form, so `HTTPS://App.Example.com:443`
 * matches what a browser sends for `https://app.example.com`.
 */

/** One parsed `origins` entry, or why it is not one. */
export type OriginEntry =
  | { readonly kind: 'any' }
  | { readonly kind: 'exact'; readonly origin: string }
  | { readonly kind: 'wildcard'; readonly prefix: string; readonly suffix: string }
  | { readonly kind: 'invalid'; readonly message: string };

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s;
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?$/;
const IPV6 = /^\[[0-9a-f:.]+\]$/;
const PORT = /^[0-9]{1,5}$/;
const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443', ws: '80', wss: '443' };

/** The shape hint every origin message ends with. */
export const ORIGIN_HINT = 'an origin is scheme://host[:port], e.g. https://app.example.com or https://*.example.com';

/**
 * Parses one configured origin: `*`, `null`, `scheme://host[:port]`, or a
 * wildcard `scheme://*.domain[:port]` (`*` is one or more whole leading
 * labels; the domain needs at least two labels so `https://*.com` is refused).
 *
 * @param text the entry as written.
 * @returns the normalised entry, or `invalid` with a message for the config error.
 */
export function parseOriginEntry(text: string): OriginEntry {
  if (text === '*') return { kind: 'any' };
  if (text === 'null') return { kind: 'exact', origin: 'null' };
  const m = SCHEME.exec(text);
  if (m === null) return invalid(`is not an origin (${ORIGIN_HINT})`);
  const scheme = m[1].toLowerCase();
  const rest = m[2];
  for (let i = 0; i < rest.length; i++) {
    const c = rest.charCodeAt(i);
    if (c > 126) return invalid('must be ASCII (write an international domain in its punycode xn-- form)');
    if (c <= 32) return invalid('must not contain whitespace or control characters');
  }
  const cut = firstOf(rest, '/?#');
  if (cut >= 0) return invalid(`must not have a path, query or fragment (${ORIGIN_HINT})`);
  if (rest.includes('@')) return invalid(`must not contain user info (${ORIGIN_HINT})`);
  let host = rest.toLowerCase();
  let port = '';
  const colon = host.startsWith('[') ? host.indexOf(':', host.indexOf(']')) : host.lastIndexOf(':');
  if (colon >= 0) {
    port = host.slice(colon + 1);
    host = host.slice(0, colon);
    if (!PORT.test(port) || Number(port) < 1 || Number(port) > 65535) return invalid('has an invalid port (1-65535)');
    port = String(Number(port));
    if (DEFAULT_PORTS[scheme] === port) port = '';
  }
  const portPart = port === '' ? '' : ':' + port;
  if (host.startsWith('*.')) {
    const domain = host.slice(2);
    if (!validDomain(domain)) return invalid(`has an invalid host after *. (${ORIGIN_HINT})`);
    if (!domain.includes('.')) return invalid('wildcard must be followed by at least two labels (https://*.example.com, not https://*.com)');
    return { kind: 'wildcard', prefix: scheme + '://', suffix: '.' + domain + portPart };
  }
  if (host.includes('*')) return invalid('* is only allowed as the whole first label (https://*.example.com), or alone for any origin');
  if (!IPV6.test(host) && !validDomain(host)) return invalid(`has an invalid host (${ORIGIN_HINT})`);
  return { kind: 'exact', origin: scheme + '://' + host + portPart };
}

function invalid(message: string): OriginEntry {
  return { kind: 'invalid', message };
}

function firstOf(s: string, chars: string): number {
  for (let i = 0; i < s.length; i++) if (chars.includes(s[i])) return i;
  return -1;
}

function validDomain(host: string): boolean {
  if (host === '' || host.length > 253) return false;
  for (const label of host.split('.')) if (label.length > 63 || !LABEL.test(label)) return false;
  return true;
}

/**
 * The configured origins in matching form. `allows(origin)` is the per-request
 * check; it never allocates for an origin that is already lower-case ASCII
 * (which is what browsers send).
 */
export class OriginMatcher {
  /** Whether `*` was configured (any origin except `null`, unless `null` is listed). */
  readonly any: boolean;
  private readonly exact: Set<string>;
  // why: parallel arrays of strings instead of objects or regexes; the
  // request path only runs startsWith/endsWith and one char loop per entry.
  private readonly prefixes: string[] = [];
  private readonly suffixes: string[] = [];

  /** @param entries parsed entries (invalid ones must have been rejected by the config check). */
  constructor(entries: readonly OriginEntry[]) {
    let any = false;
    this.exact = new Set();
    for (const e of entries) {
      if (e.kind === 'any') any = true;
      else if (e.kind === 'exact') this.exact.add(e.origin);
      else if (e.kind === 'wildcard') { this.prefixes.push(e.prefix); this.suffixes.push(e.suffix); }
      else throw new Error('invalid origin entry: ' + e.message);
    }
    this.any = any;
  }

  /**
   * Whether a request's `Origin` value is allowed. Outside `*` mode an allowed
   * value is safe to echo in a header: it equals a configured origin (up to
   * ASCII case) or passed the wildcard's label check (letters, digits, `-`,
   * `_`, dots). In `*` mode anything but `null` is allowed, and `*` is what
   * gets sent, never the value.
   */
  allows(origin: string): boolean {
    if (this.exact.has(origin)) return true;
    if (this.matchesWildcard(origin)) return true;
    if (origin === 'null') return false;
    if (this.any) return true;
    // why: browsers always send lower case; only a hand-made request pays for
    // the lower-casing, and non-ASCII never matches (no Unicode case folding:
    // U+212A KELVIN SIGN lower-cases to "k").
    const lower = asciiLower(origin);
    if (lower === null || lower === origin) return false;
    return this.exact.has(lower) || this.matchesWildcard(lower);
  }

  private matchesWildcard(origin: string): boolean {
    const prefixes = this.prefixes;
    for (let i = 0; i < prefixes.length; i++) {
      const p = prefixes[i];
      const s = this.suffixes[i];
      if (origin.length <= p.length + s.length || !origin.startsWith(p) || !origin.endsWith(s)) continue;
      if (validSubdomain(origin, p.length, origin.length - s.length)) return true;
    }
    return false;
  }
}

/**
 * Whether `origin[from, to)` is one or more non-empty DNS labels of
 * lower-case letters, digits, `-` and `_` separated by dots: what `*` may
 * stand for (so `https://x.evil.com:1@a.example.com` or `https://.example.com`
 * never match).
 */
export function validSubdomain(origin: string, from: number, to: number): boolean {
  let labelLength = 0;
  for (let i = from; i < to; i++) {
    const c = origin.charCodeAt(i);
    if (c === 46 /* . */) {
      if (labelLength === 0) return false;
      labelLength = 0;
      continue;
    }
    const ok = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95;
    if (!ok) return false;
    labelLength++;
  }
  return labelLength > 0;
}

/** `s` in ASCII lower case (the same string when it has no upper case), or null when it holds non-printable or non-ASCII characters. */
export function asciiLower(s: string): string | null {
  let upper = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c >= 127) return null;
    if (c >= 65 && c <= 90) upper = true;
  }
  return upper ? s.toLowerCase() : s;
}
