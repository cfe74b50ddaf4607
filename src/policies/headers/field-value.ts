/**
 * Making substituted text safe for an HTTP field value (RFC 9110 §5.5):
 * what a template inserts from the request (a header, a decoded query or
 * path parameter, a consumer name) must never end a header line early, and
 * every value the policy writes is plain US-ASCII, whatever encoding the
 * sink (undici upstream, uWS to the client) applies to header strings.
 */

const HEX = '0123456789ABCDEF';

/**
 * Whether `c` (a UTF-16 code unit) is a control character that may not
 * appear in a field value: C0 controls except HTAB (so CR, LF and NUL), and
 * DEL.
 */
function isForbidden(c: number): boolean {
  return (c < 0x20 && c !== 0x09) || c === 0x7f;
}

/**
 * Whether `text` holds any character a field value may not hold (CR, LF,
 * NUL, another C0 control but HTAB, DEL). Used at load on literal text.
 */
export function hasControlChar(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (isForbidden(text.charCodeAt(i))) return true;
  return false;
}

/** Whether `text` is all US-ASCII. */
export function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

/**
 * `text` as a safe field value: CR, LF, NUL, the other C0 controls but HTAB,
 * and DEL are removed; every non-ASCII character is written as the
 * percent-encoded UTF-8 bytes (`é` → `%C3%A9`), so the value is US-ASCII
 * and means the same bytes on every sink. Returns `text` itself when nothing
 * needs changing (the common case).
 */
export function safeFieldValue(text: string): string {
  // why: one scan without allocation; only a value that needs work is copied.
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f || isForbidden(c)) break;
  }
  if (i === text.length) return text;
  let out = text.slice(0, i);
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x7f) {
      if (!isForbidden(c)) out += text[i];
      continue;
    }
    let cp = c;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const lo = text.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) { cp = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00); i++; }
    }
    if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd; // a lone surrogate: the replacement character
    out += percentUtf8(cp);
  }
  return out;
}

/** The UTF-8 bytes of code point `cp` (≥ 0x80), percent-encoded. */
function percentUtf8(cp: number): string {
  if (cp < 0x800) return pct(0xc0 | (cp >> 6)) + pct(0x80 | (cp & 0x3f));
  if (cp < 0x10000) return pct(0xe0 | (cp >> 12)) + pct(0x80 | ((cp >> 6) & 0x3f)) + pct(0x80 | (cp & 0x3f));
  return pct(0xf0 | (cp >> 18)) + pct(0x80 | ((cp >> 12) & 0x3f)) + pct(0x80 | ((cp >> 6) & 0x3f)) + pct(0x80 | (cp & 0x3f));
}

function pct(b: number): string {
  return '%' + HEX[b >> 4] + HEX[b & 15];
}
