/**
 * Translation of an HttpRule path template into a route of Turnpike's radix
 * router (which knows `/literal`, `/:param` for one segment and a trailing
 * `/*` rest), plus the per-request step that rebuilds the template's
 * variables once the router has picked the route.
 *
 * Verbs: the router has no notion of them. When the template ends with a
 * literal (`/v1/books:search`) the verb is folded into that static segment
 * of the router path. When it ends with `*` or `**`
 * (`/v1/{name=shelves/*\/books/*}:checkout`) the router path is the bare
 * shape (`/v1/shelves/:p0/books/:p1`), the last capture receives
 * `b1:checkout`, and `assemble`/`match` check and strip the `:checkout`
 * suffix, returning null when it is absent. A template without a verb keeps
 * any ':' in its last capture as part of the value (grpc-gateway
 * behaviour: `GET /v1/shelves/s/books/b:x` gives name `shelves/s/books/b:x`).
 * Several bindings can therefore share one router path and method;
 * {@link groupForRouter} builds one router entry per (method, path) with the
 * candidates in the order to try them.
 *
 * Percent-decoding (http.proto): a variable of exactly one segment (`{id}`,
 * `{id=*}`) is fully decoded; a variable of several segments or `**` is
 * decoded except `%2F`/`%2f`, which stay as they are.
 */
import { HttpRuleError } from './errors.js';
import { isSingleSegmentVariable, type PathTemplate } from './path-template.js';

/** Path variables as `[fieldPath, value]` pairs in template order (field paths in proto names). */
export type PathVars = Array<[fieldPath: string, value: string]>;

/** A template compiled for Turnpike's router. */
export interface RouterRoute {
  /** Router pattern, e.g. `/v1/shelves/:p0/books/:p1`, `/v1/books:search`, `/v1/files/*`. */
  readonly path: string;
  /** The template's verb ('' when none). */
  readonly verb: string;
  /** True when the verb is checked on the last capture; false when folded into `path` or absent. */
  readonly verbInCapture: boolean;
  /** Number of router captures (`:pN` params plus the trailing `*`, if any). */
  readonly captures: number;
  /**
   * Rebuilds the variables from the router's params (in capture order: the
   * router's decoded `:pN` values, then its raw `*` rest). Null when the verb
   * does not match. Approximation: the router decodes each `:pN` fully, so a
   * `%2F` inside one segment of a multi-segment variable arrives as '/' and
   * an escaped `%3A` counts as the verb's ':'; use {@link RouterRoute.match}
   * for exact spec behaviour.
   * @throws HttpRuleError `invalid_path_parameter` on bad percent-encoding in the rest.
   */
  assemble(params: readonly string[]): PathVars | null;
  /**
   * Matches the raw request path (before any decoding, without the query)
   * against the template exactly and returns the variables, or null when
   * the path (or verb) does not match.
   * @throws HttpRuleError `invalid_path_parameter` on bad percent-encoding.
   */
  match(rawPath: string): PathVars | null;
}

/** Fully decodes one segment. */
function decodeFull(raw: string, fieldPath: string): string {
  if (!raw.includes('%')) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new HttpRuleError('invalid_path_parameter', `path variable {${fieldPath}}: bad percent-encoding in "${raw}"`);
  }
}

/** Decodes a multi-segment value except `%2F`/`%2f`, which are kept verbatim. */
function decodeKeepingSlash(raw: string, fieldPath: string): string {
  if (!raw.includes('%')) return raw;
  // why: a UTF-8 multi-byte escape never contains %2F, so splitting there is safe.
  const parts = raw.split(/(%2[fF])/);
  for (let i = 0; i < parts.length; i += 2) parts[i] = decodeFull(parts[i], fieldPath);
  return parts.join('');
}

/** One piece of a variable's value: literal text or a capture index. */
type Piece = string | number;

interface CompiledVariable {
  readonly fieldPath: string;
  readonly single: boolean;
  readonly pieces: readonly Piece[];
}

/**
 * Compiles a parsed template for the router. See the module comment for
 * how verbs and decoding are handled.
 */
export function toRouterRoute(template: PathTemplate): RouterRoute {
  const segs = template.segments;
  const captureOf: number[] = [];
  let path = '';
  let captures = 0;
  for (const s of segs) {
    if (s.kind === 'literal') {
      captureOf.push(-1);
      path += '/' + s.value;
    } else {
      captureOf.push(captures);
      path += s.kind === 'single' ? `/:p${captures}` : '/*';
      captures++;
    }
  }
  const verb = template.verb;
  const lastKind = segs[segs.length - 1].kind;
  const verbInCapture = verb.length > 0 && lastKind !== 'literal';
  if (verb.length > 0 && lastKind === 'literal') path += ':' + verb;
  const suffix = ':' + verb;
  const restIndex = lastKind === 'multi' ? captures - 1 : -1;
  const vars: CompiledVariable[] = template.variables.map((v) => {
    const pieces: Piece[] = [];
    for (let i = v.start; i < v.end; i++) {
      const s = segs[i];
      pieces.push(s.kind === 'literal' ? s.value : captureOf[i]);
    }
    return { fieldPath: v.fieldPath, single: isSingleSegmentVariable(template, v), pieces };
  });

  /** Joins a variable's pieces; an empty `**` rest adds no separator (`{p=files/**}` on `/files` is `files`). */
  function join(v: CompiledVariable, piece: (p: Piece) => string): string {
    let out = '';
    for (let i = 0; i < v.pieces.length; i++) {
      const text = piece(v.pieces[i]);
      if (i > 0 && !(text.length === 0 && v.pieces[i] === restIndex)) out += '/';
      out += text;
    }
    return out;
  }

  function build(caps: readonly string[], routerDecoded: boolean): PathVars {
    const out: PathVars = [];
    for (const v of vars) {
      const fp = v.fieldPath;
      const decode = v.single ? decodeFull : decodeKeepingSlash;
      if (routerDecoded) {
        // why: the router has already decoded its `:pN` params; only literals and the raw `*` rest may hold escapes.
        out.push([fp, join(v, (p) => (typeof p === 'string' ? decode(p, fp) : p === restIndex ? decodeKeepingSlash(caps[p], fp) : caps[p]))]);
      } else {
        out.push([fp, decode(join(v, (p) => (typeof p === 'string' ? p : caps[p])), fp)]);
      }
    }
    return out;
  }

  function assemble(params: readonly string[]): PathVars | null {
    if (params.length < captures) return null;
    if (!verbInCapture) return build(params, true);
    const last = params[captures - 1];
    if (!last.endsWith(suffix)) return null;
    const stripped = last.slice(0, last.length - suffix.length);
    if (stripped.length === 0 && lastKind === 'single') return null;
    const caps = params.slice(0, captures);
    caps[captures - 1] = stripped;
    return build(caps, true);
  }

  function match(rawPath: string): PathVars | null {
    let p = rawPath;
    if (verb.length > 0) {
      if (!p.endsWith(suffix)) return null;
      p = p.slice(0, p.length - suffix.length);
    }
    if (p.charCodeAt(0) !== 47 /* / */) return null;
    const parts = p.slice(1).split('/');
    const caps: string[] = [];
    let j = 0;
    for (const s of segs) {
      if (s.kind === 'multi') {
        caps.push(parts.slice(j).join('/'));
        j = parts.length;
      } else if (j >= parts.length) {
        return null;
      } else if (s.kind === 'literal') {
        if (parts[j++] !== s.value) return null;
      } else {
        if (parts[j].length === 0) return null;
        caps.push(parts[j++]);
      }
    }
    if (j !== parts.length) return null;
    return build(caps, false);
  }

  return { path, verb, verbInCapture, captures, assemble, match };
}

/** One router registration: a (method, router path) pair and the bindings to try in order. */
export interface RouterGroup<B> {
  readonly httpMethod: string;
  readonly path: string;
  /** Bindings whose verb sits in the last capture first (verbs are mutually exclusive), the verb-less one last. */
  readonly candidates: readonly B[];
}

/**
 * Groups bindings by (HTTP method, router path) so each pair is registered
 * once in the router. On a router hit, try `candidates` in order with
 * `route.match(rawPath)` (or `route.assemble(params)`); the first non-null
 * result wins; if all return null answer 404. Groups keep the input order of
 * their first binding.
 */
export function groupForRouter<B extends { readonly httpMethod: string; readonly route: RouterRoute }>(bindings: readonly B[]): RouterGroup<B>[] {
  const byKey = new Map<string, { httpMethod: string; path: string; candidates: B[] }>();
  for (const b of bindings) {
    const key = `${b.httpMethod} ${b.route.path}`;
    let g = byKey.get(key);
    if (g === undefined) {
      g = { httpMethod: b.httpMethod, path: b.route.path, candidates: [] };
      byKey.set(key, g);
    }
    g.candidates.push(b);
  }
  const out: RouterGroup<B>[] = [];
  for (const g of byKey.values()) {
    const withVerb = g.candidates.filter((b) => b.route.verbInCapture);
    const without = g.candidates.filter((b) => !b.route.verbInCapture);
    out.push({ httpMethod: g.httpMethod, path: g.path, candidates: [...withVerb, ...without] });
  }
  return out;
}
