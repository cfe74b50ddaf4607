/**
 * `compileRouter`: validated route configs in, an immutable {@link Router} out.
 * Pure and deterministic, so every worker compiles the same router from the
 * same config.
 */
import type { RouteConfig } from '../config/types.js';
import type { RequestLookup } from './types.js';
import { compileRoute, type CompiledRoute, type MatchResult } from './compiled-route.js';
import { buildHostTables, type HostTables } from './host-table.js';
import { ensureCaptureCapacity, matchRequest } from './match.js';

/** A compiled, immutable router. */
export interface Router {
  /**
   * Finds the route for a request.
   *
   * @param method upper-case request method (HEAD also matches GET routes)
   * @param host the Host header as received (case, `:port` and IPv6
   *   brackets are handled here); '' when absent
   * @param path the raw path without the query string, starting with `/`
   * @param lookup header/query access for predicates
   * @param params reused output array: set to the captures of the returned
   *   route, in `route.paramNames` order (`:param` values percent-decoded,
   *   the `*` rest raw); emptied otherwise
   * @returns the route itself, a 405 with its Allow list, a bad-path marker
   *   (malformed percent-escape in a param: answer 400), or null (404)
   */
  match(method: string, host: string, path: string, lookup: RequestLookup, params: string[]): MatchResult;
  /** Every compiled route, in config order. */
  readonly routes: readonly CompiledRoute[];
  /** The host tables (for explain and the route table). */
  readonly tables: HostTables;
}

class CompiledRouter implements Router {
  readonly routes: readonly CompiledRoute[];
  readonly tables: HostTables;

  constructor(routes: readonly CompiledRoute[], tables: HostTables) {
    this.routes = routes;
    this.tables = tables;
    Object.freeze(this);
  }

  match(method: string, host: string, path: string, lookup: RequestLookup, params: string[]): MatchResult {
    return matchRequest(this.tables, method, host, path, lookup, params);
  }
}

/**
 * Compiles routes into a router: one segment radix tree per host (exact
 * hosts, `*.suffix` wildcards, and any-host), routes on each tree position
 * indexed by method.
 *
 * Matching rules:
 * - Hosts: exact table, then wildcard tables (longest suffix first; `*.a.com`
 *   matches `x.a.com` and `x.y.a.com`, not `a.com`), then any-host. A table
 *   that yields no route falls through to the next one, so host-specific
 *   routes win but any-host routes still serve other paths.
 * - Paths are matched on raw (still percent-encoded) segments. At each
 *   segment: static > `:param` > trailing `*`, with backtracking. A branch
 *   whose node rejects the request (method or predicates) also backtracks.
 * - Trailing slashes are significant: `/a/` and `/a` are distinct, and
 *   `/users/` does not match `/users/:id` (params never capture an empty
 *   segment). A pattern ending in `*` matches with an empty rest both with
 *   and without the slash: `/static/*` matches `/static`, `/static/` and
 *   `/static/x/y`.
 * - On one node: method filter (null methods = any; HEAD matches GET
 *   routes), then header/query predicates; more predicates win, then config
 *   order (`RouteConfig.index`).
 *
 * @throws Error naming the route on a malformed pattern, rewrite or split.
 */
export function compileRouter(routes: readonly RouteConfig[]): Router {
  const compiled = Object.freeze(routes.map(compileRoute));
  let maxCaptures = 0;
  for (const r of compiled) maxCaptures = Math.max(maxCaptures, r.paramNames.length);
  ensureCaptureCapacity(maxCaptures);
  return new CompiledRouter(compiled, buildHostTables(compiled));
}
