/**
 * Parsing of route path patterns (`/v1/users/:id/*`). Compile-time only: the
 * result feeds the radix tree, the rewrite-template checker, `explain` and the
 * route table. Nothing here runs per request.
 */

/** Kind of one pattern segment. */
export type SegmentKind = 'static' | 'param' | 'wildcard';

/** One segment of a parsed pattern. */
export interface PatternSegment {
  readonly kind: SegmentKind;
  /** Literal text for `static` (may be '' for an empty segment), param name for `param`, '*' for `wildcard`. */
  readonly value: string;
}

/** A parsed path pattern. */
export interface ParsedPattern {
  readonly segments: readonly PatternSegment[];
  /** Capture names in order; the wildcard, when present, is the last one and is named `*`. */
  readonly paramNames: readonly string[];
  readonly hasWildcard: boolean;
}

/**
 * Parses a path pattern into segments.
 *
 * Rules: the pattern starts with `/`; a segment that starts with `:` is a
 * parameter capturing one non-empty segment; a segment that is exactly `*`
 * is the wildcard and must be last; `*` anywhere else is rejected; param
 * names are unique. `/` alone is one empty static segment, so `/a/` (two
 * segments, the second empty) and `/a` are different patterns.
 *
 * @throws Error naming the offending pattern when it is malformed.
 */
export function parsePattern(pattern: string): ParsedPattern {
  if (pattern.length === 0 || pattern.charCodeAt(0) !== 47) {
    throw new Error(`route path "${pattern}" must start with "/"`);
  }
  const raw = pattern.slice(1).split('/');
  const segments: PatternSegment[] = [];
  const paramNames: string[] = [];
  let hasWildcard = false;
  for (let i = 0; i < raw.length; i++) {
    const seg = raw[i];
    if (seg === '*') {
      if (i !== raw.length - 1) throw new Error(`route path "${pattern}": "*" is only allowed as the last segment`);
      segments.push({ kind: 'wildcard', value: '*' });
      paramNames.push('*');
      hasWildcard = true;
    } else if (seg.charCodeAt(0) === 58 /* : */) {
      const name = seg.slice(1);
      if (name.length === 0 || name.includes(':') || name.includes('*')) {
        throw new Error(`route path "${pattern}": bad parameter segment "${seg}"`);
      }
      if (paramNames.includes(name)) throw new Error(`route path "${pattern}": duplicate parameter ":${name}"`);
      segments.push({ kind: 'param', value: name });
      paramNames.push(name);
    } else {
      if (seg.includes('*')) throw new Error(`route path "${pattern}": "*" must be a whole segment`);
      if (seg.includes('?') || seg.includes('#')) throw new Error(`route path "${pattern}": "?" and "#" are not allowed`);
      segments.push({ kind: 'static', value: seg });
    }
  }
  return { segments, paramNames, hasWildcard };
}

/** Precedence rank of a segment kind at one position: static beats param beats wildcard. */
export function segmentRank(kind: SegmentKind | 'end'): number {
  // why: 'end' (pattern exhausted exactly where the path ends) beats a
  // wildcard matching an empty rest: `/a` wins over `/a/*` for path `/a`.
  switch (kind) {
    case 'end':
      return 4;
    case 'static':
      return 3;
    case 'param':
      return 2;
    default:
      return 1;
  }
}
