/**
 * Path templates of aggregate calls: literal text, `:param` (a capture of
 * the route's match path) and `${call.field.path}` (a value from an earlier
 * call's JSON response). Parsed once at config load; rendering is a loop
 * over the parts with the values URL-encoded.
 */

/** Literal text, copied as written. */
export const LITERAL = 0;
/** A route capture, by name (compiled to its index in the route's params). */
export const PARAM = 1;
/** A field of a call's JSON response. */
export const REF = 2;

/** One piece of a template. */
export interface TemplatePart {
  readonly kind: typeof LITERAL | typeof PARAM | typeof REF;
  /** LITERAL: the text; PARAM: the capture name; REF: the call name. */
  readonly text: string;
  /** REF: the field path inside the call's response ([] = the whole response). */
  readonly path: readonly string[];
}

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;
const CALL_NAME = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

/**
 * Parses a template. Returns its parts, or an error message (an unclosed
 * `${`, an empty or malformed reference).
 */
export function parseTemplate(template: string): TemplatePart[] | string {
  const parts: TemplatePart[] = [];
  let lit = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i];
    if (c === '$' && template[i + 1] === '{') {
      const end = template.indexOf('}', i + 2);
      if (end < 0) return `unclosed \${ at position ${i + 1}`;
      const ref = parseRef(template.slice(i + 2, end));
      if (typeof ref === 'string') return ref;
      if (lit !== '') parts.push({ kind: LITERAL, text: lit, path: [] });
      lit = '';
      parts.push(ref);
      i = end + 1;
    } else if (c === ':' && i + 1 < template.length && NAME_START.test(template[i + 1])) {
      let j = i + 2;
      while (j < template.length && NAME_CHAR.test(template[j])) j++;
      if (lit !== '') parts.push({ kind: LITERAL, text: lit, path: [] });
      lit = '';
      parts.push({ kind: PARAM, text: template.slice(i + 1, j), path: [] });
      i = j;
    } else {
      lit += c;
      i++;
    }
  }
  if (lit !== '') parts.push({ kind: LITERAL, text: lit, path: [] });
  return parts;
}

/** `call.field.path` → a REF part (or the error). */
export function parseRef(text: string): TemplatePart | string {
  const segs = text.split('.');
  if (!CALL_NAME.test(segs[0])) return `\${${text}} must name a call: \${call} or \${call.field.path}`;
  for (let k = 1; k < segs.length; k++) if (segs[k] === '') return `\${${text}} has an empty field name`;
  return { kind: REF, text: segs[0], path: segs.slice(1) };
}

/**
 * The value at `path` inside a parsed JSON value (array elements by
 * numeric segment); undefined when any step is missing.
 */
export function fieldAt(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (let i = 0; i < path.length; i++) {
    if (v === null || typeof v !== 'object') return undefined;
    // why: own properties only, so "__proto__" or "constructor" in a config path never reaches Object.prototype.
    if (!Object.hasOwn(v, path[i])) return undefined;
    v = (v as Record<string, unknown>)[path[i]];
  }
  return v;
}
