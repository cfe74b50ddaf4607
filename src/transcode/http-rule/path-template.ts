/**
 * Parser for google.api.HttpRule path templates, following the grammar in
 * google/api/http.proto exactly:
 *
 *     Template = "/" Segments [ Verb ] ;
 *     Segments = Segment { "/" Segment } ;
 *     Segment  = "*" | "**" | LITERAL | Variable ;
 *     Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *     FieldPath = IDENT { "." IDENT } ;
 *     Verb     = ":" LITERAL ;
 *
 * plus the rules stated beside it: a variable must not contain another
 * variable, `**` must be the last segment (only the verb may follow), and a
 * field path appears at most once. LITERAL is a non-empty run of RFC 3986
 * path characters (unreserved, sub-delims other than "*", "@", and `%XX`
 * escapes); ":" is excluded because it starts the verb. Compile time only.
 */
import { PathTemplateError } from './errors.js';

/** One path segment of a template: literal text, `*` (one segment) or `**` (zero or more). */
export type TemplateSegment =
  | { readonly kind: 'literal'; readonly value: string }
  | { readonly kind: 'single' }
  | { readonly kind: 'multi' };

/** A `{field.path=...}` variable covering `segments[start, end)`. */
export interface TemplateVariable {
  /** Dotted field path in proto (not JSON) names, e.g. `book.name`. */
  readonly fieldPath: string;
  readonly start: number;
  readonly end: number;
}

/** A parsed path template. Variables are flattened: their segments sit in `segments`. */
export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly TemplateSegment[];
  readonly variables: readonly TemplateVariable[];
  /** The custom verb without its ':' ('' when none). */
  readonly verb: string;
}

/** Literal characters besides ASCII letters and digits (RFC 3986 pchar minus ':' and '*'). */
const LITERAL_PUNCT = "-._~!$&'()+,;=@";

function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** Recursive-descent state for one template. */
class TemplateParser {
  private pos = 0;
  readonly segments: TemplateSegment[] = [];
  readonly variables: TemplateVariable[] = [];
  /** Source offset of each segment, for error positions found after parsing. */
  private readonly segmentOffsets: number[] = [];

  constructor(private readonly src: string) {}

  fail(problem: string, at: number = this.pos): never {
    throw new PathTemplateError(this.src, at, problem);
  }

  private describe(): string {
    return this.pos >= this.src.length ? 'end of template' : `"${this.src[this.pos]}"`;
  }

  parse(): PathTemplate {
    if (this.src[0] !== '/') this.fail('a template must start with "/"', 0);
    this.pos = 1;
    this.parseSegments(false);
    let verb = '';
    if (this.src[this.pos] === ':') {
      this.pos++;
      verb = this.parseLiteral();
      if (verb.length === 0) this.fail(`expected a verb after ":", got ${this.describe()}`);
    }
    if (this.pos < this.src.length) {
      const what = verb.length > 0 ? 'the verb must end the template' : 'expected "/", ":" or the end';
      this.fail(`unexpected "${this.src[this.pos]}": ${what}`);
    }
    const multi = this.segments.findIndex((s) => s.kind === 'multi');
    if (multi !== -1 && multi !== this.segments.length - 1) {
      this.fail('"**" must be the last segment (only a verb may follow it)', this.segmentOffsets[multi]);
    }
    return { source: this.src, segments: this.segments, variables: this.variables, verb };
  }

  private parseSegments(inVariable: boolean): void {
    this.parseSegment(inVariable);
    while (this.src[this.pos] === '/') {
      this.pos++;
      this.parseSegment(inVariable);
    }
  }

  private parseSegment(inVariable: boolean): void {
    const start = this.pos;
    const c = this.src[this.pos];
    if (c === '*') {
      const multi = this.src[this.pos + 1] === '*';
      this.pos += multi ? 2 : 1;
      if (this.src[this.pos] === '*') this.fail('"***" is not a segment');
      this.segmentOffsets.push(start);
      this.segments.push(multi ? { kind: 'multi' } : { kind: 'single' });
      return;
    }
    if (c === '{') {
      if (inVariable) this.fail('a variable must not contain another variable');
      this.parseVariable();
      return;
    }
    const value = this.parseLiteral();
    if (value.length === 0) {
      this.fail(c === '/' || c === undefined || c === ':' || c === '}' ? `expected a segment, got ${this.describe()} (empty segment)` : `unexpected ${this.describe()}`);
    }
    this.segmentOffsets.push(start);
    this.segments.push({ kind: 'literal', value });
  }

  private parseVariable(): void {
    const open = this.pos;
    this.pos++; // '{'
    const fieldPath = this.parseFieldPath();
    if (this.variables.some((v) => v.fieldPath === fieldPath)) {
      this.fail(`field "${fieldPath}" is bound by two variables`, open + 1);
    }
    const start = this.segments.length;
    if (this.src[this.pos] === '=') {
      this.pos++;
      this.parseSegments(true);
    } else {
      this.segmentOffsets.push(this.pos);
      this.segments.push({ kind: 'single' });
    }
    if (this.src[this.pos] !== '}') this.fail(`expected "}" to close the variable opened at position ${open}, got ${this.describe()}`);
    this.pos++;
    this.variables.push({ fieldPath, start, end: this.segments.length });
  }

  private parseFieldPath(): string {
    const start = this.pos;
    for (;;) {
      if (!isIdentStart(this.src.charCodeAt(this.pos))) {
        this.fail(`expected a field name (letter or "_"), got ${this.describe()}`);
      }
      this.pos++;
      while (isIdentStart(this.src.charCodeAt(this.pos)) || isAlnum(this.src.charCodeAt(this.pos))) this.pos++;
      if (this.src[this.pos] !== '.') break;
      this.pos++;
    }
    return this.src.slice(start, this.pos);
  }

  /** Consumes LITERAL characters (possibly none) and returns them. */
  private parseLiteral(): string {
    const start = this.pos;
    for (;;) {
      const c = this.src.charCodeAt(this.pos);
      if (isAlnum(c) || (c < 128 && LITERAL_PUNCT.includes(String.fromCharCode(c)))) {
        this.pos++;
      } else if (c === 37 /* % */) {
        if (!isHex(this.src.charCodeAt(this.pos + 1)) || !isHex(this.src.charCodeAt(this.pos + 2))) {
          this.fail('"%" must be followed by two hex digits');
        }
        this.pos += 3;
      } else {
        break;
      }
    }
    return this.src.slice(start, this.pos);
  }
}

/**
 * Parses an HttpRule path template such as `/v1/{name=shelves/*}/books:stream`.
 *
 * @throws PathTemplateError (code `invalid_path_template`) with the 0-based
 *   position of the first fault, e.g. `path template "/v1/{name": expected "}"
 *   to close the variable opened at position 4, got end of template at position 9`.
 */
export function parsePathTemplate(source: string): PathTemplate {
  return new TemplateParser(source).parse();
}

/**
 * The template's shape with variable names erased (`/v1/shelves/*\/books/*:checkout`);
 * two templates with the same shape match exactly the same paths.
 */
export function templateShape(t: PathTemplate): string {
  let out = '';
  for (const s of t.segments) out += '/' + (s.kind === 'literal' ? s.value : s.kind === 'single' ? '*' : '**');
  return t.verb.length > 0 ? `${out}:${t.verb}` : out;
}

/** True when the variable spans exactly one `*` or literal segment (full percent-decoding applies). */
export function isSingleSegmentVariable(t: PathTemplate, v: TemplateVariable): boolean {
  return v.end - v.start === 1 && t.segments[v.start].kind !== 'multi';
}
