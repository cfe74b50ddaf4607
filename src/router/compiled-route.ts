/**
 * Route compilation: a validated {@link RouteConfig} plus everything the hot
 * path needs precomputed (capture names, predicate arrays, method set), and
 * the match result types. Forwarding (rewrite, split) is compiled by src/forwarding/.
 */
import type { RouteConfig } from '../config/types.js';
import { parsePattern, type ParsedPattern } from './path-pattern.js';

/**
 * A route ready for matching and forwarding. It carries every field of the
 * RouteConfig it came from (so callers can read `name`, `upstream`,
 * `timeout`, ...) plus precomputed fields. `router.match` returns this very
 * object on success (no allocation per match).
 */
export interface CompiledRoute extends Readonly<RouteConfig> {
  /** Discriminant of {@link MatchResult}. */
  readonly kind: 'route';
  /** The config the route was compiled from. */
  readonly config: RouteConfig;
  readonly pattern: ParsedPattern;
  /** The pattern ends in `*` (its capture is last in `paramNames`). */
  readonly hasWildcard: boolean;
  /** Capture names in the order `match` writes them into `params` (`*` for the wildcard, last). */
  readonly paramNames: readonly string[];
  /** Number of header + query predicates (more beats fewer on the same tree node). */
  readonly predicateCount: number;
  readonly headerNames: readonly string[];
  readonly headerValues: readonly string[];
  readonly queryNames: readonly string[];
  readonly queryValues: readonly string[];
  /** Methods accepted (HEAD added when GET is listed); null = any method. */
  readonly allow: ReadonlySet<string> | null;
}

/** The path matched but no route there accepts the method: answer 405. */
export interface MethodNotAllowed {
  readonly kind: 'method-not-allowed';
  /** Sorted, unique methods (HEAD included when GET is). */
  readonly allow: readonly string[];
  /** `allow` joined with ", ", ready for the Allow header. */
  readonly allowHeader: string;
}

/** A captured param had a malformed percent-escape: answer 400. */
export interface BadPath {
  readonly kind: 'bad-path';
}

/**
 * Outcome of `router.match`: the route, a 405, a 400, or null (no route: 404).
 * Switch on `result.kind` after the null check.
 */
export type MatchResult = CompiledRoute | MethodNotAllowed | BadPath | null;

/** The single {@link BadPath} instance (no allocation on the error path). */
export const BAD_PATH: BadPath = Object.freeze({ kind: 'bad-path' as const });

/** Builds a {@link MethodNotAllowed} from a method set. */
export function methodNotAllowed(methods: Iterable<string>): MethodNotAllowed {
  const allow = [...new Set(methods)].sort();
  return Object.freeze({ kind: 'method-not-allowed' as const, allow: Object.freeze(allow), allowHeader: allow.join(', ') });
}

/** Methods accepted by a route config: upper-cased, HEAD added when GET is present; null = any. */
export function allowedMethods(methods: readonly string[] | null): Set<string> | null {
  if (methods === null) return null;
  const set = new Set<string>();
  for (const m of methods) set.add(m.toUpperCase());
  if (set.has('GET')) set.add('HEAD');
  return set;
}

/**
 * Compiles one route.
 *
 * @throws Error (message names the route) on a malformed path pattern.
 */
export function compileRoute(route: RouteConfig): CompiledRoute {
  try {
    const pattern = parsePattern(route.match.path);
    const headerNames = Object.keys(route.match.headers).map((n) => n.toLowerCase());
    const headerValues = Object.values(route.match.headers);
    const queryNames = Object.keys(route.match.query);
    const queryValues = Object.values(route.match.query);
    // why: an explicit literal (not `...route`) so every compiled route shares
    // one hidden class; spread-built objects each got their own map and made
    // the matcher's property loads megamorphic.
    const compiled: CompiledRoute = {
      name: route.name,
      index: route.index,
      match: route.match,
      upstream: route.upstream,
      split: route.split,
      sticky: route.sticky,
      rewrite: route.rewrite,
      rateLimit: route.rateLimit,
      policies: route.policies,
      maxBodyBytes: route.maxBodyBytes,
      transcode: route.transcode,
      websocket: route.websocket,
      retry: route.retry,
      aggregate: route.aggregate,
      stripPrefix: route.stripPrefix,
      preserveHost: route.preserveHost,
      timeout: route.timeout,
      kind: 'route',
      config: route,
      pattern,
      hasWildcard: pattern.hasWildcard,
      paramNames: Object.freeze([...pattern.paramNames]),
      predicateCount: headerNames.length + queryNames.length,
      headerNames,
      headerValues,
      queryNames,
      queryValues,
      allow: allowedMethods(route.match.methods),
    };
    return Object.freeze(compiled);
  } catch (err) {
    throw new Error(`route "${route.name}" (#${route.index}): ${(err as Error).message}`, { cause: err });
  }
}
