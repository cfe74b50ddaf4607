/**
 * OpenAPI path templates (`/pets/{petId}`, `/files/{name}.json`), compiled
 * at load into segments and matched per request by walking the path's
 * segments (no regular expression).
 */

/** One segment: a literal (`name` null, text in `prefix`) or a param with literal text around it. */
interface Segment {
  readonly prefix: string;
  readonly name: string | null;
  readonly suffix: string;
}

/** A compiled template. */
export interface PathTemplate {
  readonly text: string;
  readonly segments: readonly Segment[];
  /** Param names in order. */
  readonly params: readonly string[];
  /** Literal segments count (more literal text wins over a param at the same place). */
  readonly literals: number;
}

/** Compiles a template; throws on a malformed one (an unclosed `{`, two params in one segment). */
export function compileTemplate(text: string): PathTemplate {
  if (!text.startsWith('/')) throw new Error(`path "${text}" must start with /`);
  const segments: Segment[] = [];
  const params: string[] = [];
  let literals = 0;
  const parts = text === '/' ? [] : text.slice(1).split('/');
  for (const part of parts) {
    const open = part.indexOf('{');
    if (open < 0) {
      if (part.includes('}')) throw new Error(`path "${text}": unbalanced } in "${part}"`);
      segments.push({ prefix: part, name: null, suffix: '' });
      literals++;
      continue;
    }
    const close = part.indexOf('}', open);
    if (close < 0 || part.indexOf('{', open + 1) >= 0 || part.indexOf('}', close + 1) >= 0 || close === open + 1) {
      throw new Error(`path "${text}": segment "${part}" must hold exactly one {name}`);
    }
    const name = part.slice(open + 1, close);
    segments.push({ prefix: part.slice(0, open), name, suffix: part.slice(close + 1) });
    params.push(name);
  }
  return { text, segments, params, literals };
}

/**
 * Matches `path` from index `start` (which must be a `/`, or the end for the
 * template `/`) against the template; pushes the raw (undecoded) param
 * values onto `out` and returns true on a match. A single trailing slash is
 * accepted. `out` may hold values of a failed attempt: clear it before use.
 */
export function matchTemplate(t: PathTemplate, path: string, start: number, out: string[]): boolean {
  let pos = start;
  const end = path.length > start + 1 && path.charCodeAt(path.length - 1) === 47 ? path.length - 1 : path.length;
  const segs = t.segments;
  for (let i = 0; i < segs.length; i++) {
    if (pos >= end || path.charCodeAt(pos) !== 47) return false;
    let next = path.indexOf('/', pos + 1);
    if (next < 0 || next > end) next = end;
    const s = segs[i];
    const from = pos + 1;
    if (s.name === null) {
      if (next - from !== s.prefix.length || !path.startsWith(s.prefix, from)) return false;
    } else {
      const inner = next - from - s.prefix.length - s.suffix.length;
      if (inner <= 0) return false;
      if (s.prefix.length > 0 && !path.startsWith(s.prefix, from)) return false;
      if (s.suffix.length > 0 && !path.startsWith(s.suffix, next - s.suffix.length)) return false;
      out.push(path.slice(from + s.prefix.length, next - s.suffix.length));
    }
    pos = next;
  }
  return pos === end || (segs.length === 0 && end === start + 1 && path.charCodeAt(start) === 47) || (segs.length === 0 && start === end);
}

/** Decodes a percent-encoded param value; null when malformed. */
export function decodeParam(raw: string): string | null {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** `/pets/{petId}` → `/pets/:petId` (the gateway's route pattern syntax); null when a segment mixes text and a param. */
export function toRoutePattern(t: PathTemplate): string | null {
  let out = '';
  for (const s of t.segments) {
    if (s.name === null) out += '/' + s.prefix;
    else if (s.prefix === '' && s.suffix === '') out += '/:' + s.name;
    else return null;
  }
  return out === '' ? '/' : out;
}
