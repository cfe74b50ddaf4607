/**
 * Cache-Control directives (RFC 9111 §5.2) of requests and responses, and
 * the small HTTP field grammars the cache needs (delta-seconds, HTTP dates,
 * comma lists with quoted strings, entity-tags). Parsed once per upstream
 * response (a miss) and only for requests that carry the fields, never on a
 * plain hit.
 */

/** Largest delta-seconds honoured (RFC 9111 §1.2.2: 2^31). */
const MAX_DELTA = 2_147_483_648;

/** The directives the cache acts on; -1 = absent. */
export class Directives {
  noStore = false;
  noCache = false;
  private = false;
  public = false;
  mustRevalidate = false;
  proxyRevalidate = false;
  onlyIfCached = false;
  /** Seconds, -1 when absent (the smallest value when repeated). */
  maxAge = -1;
  sMaxAge = -1;
  minFresh = -1;
  staleWhileRevalidate = -1;
  staleIfError = -1;
}

/** Parses a delta-seconds value (digits only; larger than 2^31 is 2^31); -1 when it is not one. */
export function parseDelta(text: string): number {
  if (text.length === 0) return -1;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
    if (n > MAX_DELTA) n = MAX_DELTA;
  }
  return n;
}

/**
 * Splits a comma-separated field value into trimmed members, keeping commas
 * inside quoted strings (entity-tags, quoted directive arguments); empty
 * members are dropped.
 */
export function splitList(value: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= value.length; i++) {
    const c = i < value.length ? value.charCodeAt(i) : 44;
    if (quoted) {
      if (c === 92) i++; // backslash escapes the next character
      else if (c === 34) quoted = false;
      continue;
    }
    if (c === 34) quoted = true;
    else if (c === 44) {
      const part = value.slice(start, i).trim();
      if (part !== '') out.push(part);
      start = i + 1;
    }
  }
  return out;
}

/**
 * Reads Cache-Control field values into `into` (several field lines form one
 * list). Names are case-insensitive; an argument may be a token or a quoted
 * string. A repeated delta directive keeps its smallest value; an invalid
 * one counts as 0 (stale: RFC 9111 §4.2.1 lets a cache treat it so). The
 * qualified forms `private="f"` / `no-cache="f"` are treated as unqualified.
 */
export function parseCacheControl(value: string, into: Directives = new Directives()): Directives {
  for (const member of splitList(value)) {
    const eq = member.indexOf('=');
    const name = (eq < 0 ? member : member.slice(0, eq)).trim().toLowerCase();
    let arg = eq < 0 ? '' : member.slice(eq + 1).trim();
    if (arg.length >= 2 && arg.charCodeAt(0) === 34 && arg.charCodeAt(arg.length - 1) === 34) arg = arg.slice(1, -1);
    switch (name) {
      case 'no-store': into.noStore = true; break;
      case 'no-cache': into.noCache = true; break;
      case 'private': into.private = true; break;
      case 'public': into.public = true; break;
      case 'must-revalidate': into.mustRevalidate = true; break;
      case 'proxy-revalidate': into.proxyRevalidate = true; break;
      case 'only-if-cached': into.onlyIfCached = true; break;
      case 'max-age': into.maxAge = smallest(into.maxAge, arg); break;
      case 's-maxage': into.sMaxAge = smallest(into.sMaxAge, arg); break;
      case 'min-fresh': into.minFresh = smallest(into.minFresh, arg); break;
      case 'stale-while-revalidate': into.staleWhileRevalidate = smallest(into.staleWhileRevalidate, arg); break;
      case 'stale-if-error': into.staleIfError = smallest(into.staleIfError, arg); break;
      default: break;
    }
  }
  return into;
}

function smallest(current: number, arg: string): number {
  const v = parseDelta(arg);
  const n = v < 0 ? 0 : v;
  return current < 0 ? n : Math.min(current, n);
}

/** Every value of `name` in a flat lower-case header list, joined with ', ' ('' when absent). */
export function headerValues(list: readonly string[], name: string): string {
  let out = '';
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] !== name) continue;
    out = out === '' ? list[i + 1] : out + ', ' + list[i + 1];
  }
  return out;
}

/** Whether `name` appears in a flat lower-case header list. */
export function hasHeaderName(list: readonly string[], name: string): boolean {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return true;
  return false;
}

/**
 * An HTTP-date (IMF-fixdate, or the obsolete RFC 850 and asctime forms,
 * which Date.parse reads too) in epoch ms; NaN when it is not a date.
 */
export function parseHttpDate(text: string): number {
  if (text === '') return NaN;
  return Date.parse(text);
}

/** The opaque part of an entity-tag (`W/"x"` and `"x"` both give `"x"`), for weak comparison. */
function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/**
 * If-None-Match evaluation (RFC 9110 §13.1.2, weak comparison): true when
 * the field is `*` or lists a tag weakly equal to `etag`.
 */
export function noneMatchHits(field: string, etag: string): boolean {
  if (etag === '') return field.trim() === '*';
  const want = opaque(etag);
  for (const tag of splitList(field)) {
    if (tag === '*' || opaque(tag) === want) return true;
  }
  return false;
}
