/**
 * Request-path helpers of the cors kind over flat `[name, value, ...]`
 * header lists and header values: plain char loops, no regex, no split.
 */

// why: a 128-entry table answers "is this an RFC 9110 tchar" with one load
// per character instead of a regex or a chain of comparisons.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TCHAR[c] = 1;
for (let c = 65; c <= 90; c++) TCHAR[c] = 1;
for (let c = 97; c <= 122; c++) TCHAR[c] = 1;

const PREFIX = 'access-control-';

/** Vary sentinel: an existing Vary already covers Origin (or is `*`). */
export const VARY_COVERED = -2;

/**
 * Removes every `access-control-*` entry (the policy owns the CORS response
 * headers: an upstream's own, possibly origin-reflecting, values never reach
 * the client) and looks at `vary`, in one pass.
 *
 * @returns {@link VARY_COVERED} when a Vary already lists Origin or `*`; else
 *   the index of the last `vary` name in the (compacted) list, or -1 when none.
 */
export function stripCorsHeaders(list: string[]): number {
  let w = 0;
  let vary = -1;
  let covered = false;
  for (let r = 0; r < list.length; r += 2) {
    const name = list[r];
    if (name.length > PREFIX.length && name.charCodeAt(0) === 97 && name.startsWith(PREFIX)) continue;
    if (w !== r) { list[w] = name; list[w + 1] = list[r + 1]; }
    if (name === 'vary') {
      vary = w;
      if (!covered && varyCoversOrigin(list[w + 1])) covered = true;
    }
    w += 2;
  }
  if (w !== list.length) list.length = w;
  return covered ? VARY_COVERED : vary;
}

/**
 * Adds Origin to the response's Vary without clobbering what the upstream
 * listed: appended to the last Vary field, or a new `vary: Origin`.
 *
 * @param at what {@link stripCorsHeaders} returned.
 */
export function addVaryOrigin(list: string[], at: number): void {
  if (at === VARY_COVERED) return;
  if (at < 0) { list.push('vary', 'Origin'); return; }
  const v = list[at + 1];
  list[at + 1] = isBlank(v) ? 'Origin' : v + ', Origin';
}

/** Whether a Vary value lists `*` or `origin` (any case). */
export function varyCoversOrigin(value: string): boolean {
  const n = value.length;
  let i = 0;
  while (i < n) {
    let c = value.charCodeAt(i);
    if (c === 44 || c === 32 || c === 9) { i++; continue; }
    const start = i;
    while (i < n && value.charCodeAt(i) !== 44) i++;
    let end = i;
    while (end > start && ((c = value.charCodeAt(end - 1)) === 32 || c === 9)) end--;
    const len = end - start;
    if (len === 1 && value.charCodeAt(start) === 42) return true;
    if (len === 6 && equalsLower(value, start, 'origin')) return true;
  }
  return false;
}

/** Whether `s[from, from + lower.length)` equals `lower` ignoring ASCII case (`lower` is lower-case). */
export function equalsLower(s: string, from: number, lower: string): boolean {
  for (let j = 0; j < lower.length; j++) {
    let c = s.charCodeAt(from + j);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(j)) return false;
  }
  return true;
}

function isBlank(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c !== 32 && c !== 9) return false;
  }
  return true;
}

/**
 * Whether a value is a comma-separated list of tokens (tchar, commas,
 * spaces, tabs) with at least one token: what may be echoed as
 * Access-Control-Allow-Headers (so CR, LF or any other byte never reaches a
 * response header).
 */
export function isTokenList(value: string): boolean {
  let tokens = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 44 || c === 32 || c === 9) continue;
    if (c >= 128 || TCHAR[c] === 0) return false;
    tokens = 1;
  }
  return tokens > 0;
}

/**
 * Whether every name of a comma-separated header list is in `allowed`
 * (lower-case names). Names are compared case-insensitively; an empty list
 * or an invalid byte fails.
 */
export function allHeadersAllowed(value: string, allowed: ReadonlySet<string>): boolean {
  const n = value.length;
  let i = 0;
  let seen = 0;
  while (i < n) {
    let c = value.charCodeAt(i);
    if (c === 44 || c === 32 || c === 9) { i++; continue; }
    const start = i;
    let upper = false;
    while (i < n && (c = value.charCodeAt(i)) !== 44 && c !== 32 && c !== 9) {
      if (c >= 128 || TCHAR[c] === 0) return false;
      if (c >= 65 && c <= 90) upper = true;
      i++;
    }
    // A name followed by blanks then another name without a comma is malformed.
    let j = i;
    while (j < n && ((c = value.charCodeAt(j)) === 32 || c === 9)) j++;
    if (j < n && value.charCodeAt(j) !== 44) return false;
    const name = value.slice(start, i);
    if (!allowed.has(upper ? name.toLowerCase() : name)) return false;
    seen++;
    i = j;
  }
  return seen > 0;
}
