/**
 * The forwarding stage's per-route precomputation: which upstream (or split
 * table), and how the upstream path is built (rewrite template or prefix to
 * strip). Compiled once per route at worker start; the router knows nothing
 * of it (it only matches).
 */
import type { RouteConfig } from '../config/types.js';
import { compileSplit, type SplitTable } from './split.js';
import { compileRewrite, type RewriteTemplate } from './upstream-path.js';

/** How a matched route's request is forwarded. */
export interface ForwardPlan {
  /** The single upstream (null for a split). */
  readonly upstream: string | null;
  readonly rewriteTemplate: RewriteTemplate | null;
  /** `stripPrefix` without a trailing slash; null when unset or `/`. */
  readonly stripPrefixNormalised: string | null;
  readonly splitTable: SplitTable | null;
}

function normaliseStripPrefix(prefix: string | null): string | null {
  if (prefix === null) return null;
  let p = prefix;
  while (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  if (p === '/' || p === '') return null;
  return p.startsWith('/') ? p : '/' + p;
}

/**
 * Compiles a route's forwarding plan.
 *
 * @param paramNames the route's capture names in match order (`*` last), as the router compiled them.
 * @throws Error (naming the route) on a rewrite that uses a capture the pattern lacks, or a bad split.
 */
export function compileForwardPlan(route: RouteConfig, paramNames: readonly string[]): ForwardPlan {
  try {
    return {
      upstream: route.upstream,
      rewriteTemplate: route.rewrite === null ? null : compileRewrite(route.rewrite, paramNames),
      stripPrefixNormalised: normaliseStripPrefix(route.stripPrefix),
      splitTable: route.split === null ? null : compileSplit(route.split),
    };
  } catch (err) {
    throw new Error(`route "${route.name}" (#${route.index}): ${(err as Error).message}`, { cause: err });
  }
}
