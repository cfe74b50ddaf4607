/**
 * Making substituted text safe for an HTTP field value (RFC 9110 §5.5):
 * what a template inserts from the request (a header, a decoded query or
 * path parameter, a consumer name) must never end a header line early.
 */

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

/**
 * Removes CR, LF, NUL, the other C0 controls but HTAB, and DEL from `text`.
 * On the request side (`latin1Bytes`), text with characters above U+007F is
 * then turned into the Latin-1 string of its UTF-8 bytes: undici writes
 * header strings as Latin-1 and refuses characters above U+00FF, so this
 * sends the UTF-8 bytes of the value instead of failing the upstream call.
 * The response side writes strings as UTF-8 (uWS), so it keeps them.
 *
 * Returns `text` itself when nothing needs changing (the common case).
 */
export function safeFieldValue(text: string, latin1Bytes: boolean): string {
  // why: one scan without allocation; only a value that needs work is copied.
  let clean = true;
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isForbidden(c)) clean = false;
    else if (c > 0x7f) ascii = false;
  }
  let out = text;
  if (!clean) {
    out = '';
    for (let i = 0; i < text.length; i++) if (!isForbidden(text.charCodeAt(i))) out += text[i];
  }
  if (!ascii && latin1Bytes) out = Buffer.from(out, 'utf8').toString('latin1');
  return out;
}
