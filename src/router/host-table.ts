/**
 * Host tables: routes grouped by their `match.host`, each group with its own
 * path tree. Lookup order for a request host: the exact table, then wildcard
 * tables (`*.example.com`, longest suffix first), then the any-host table.
 */
import type { CompiledRoute } from './compiled-route.js';
import { buildTree, type TreeNode } from './radix-tree.js';

/** One host's routes and tree. */
export interface HostTable {
  readonly kind: 'exact' | 'wildcard' | 'any';
  /** As configured (`api.example.com`, `*.example.com`), null for any-host. */
  readonly host: string | null;
  /** For wildcard tables: `.example.com`; '' otherwise. */
  readonly suffix: string;
  readonly root: TreeNode;
  /** The routes of this table, in config order. */
  readonly routes: readonly CompiledRoute[];
}

/** All host tables of a router. */
export interface HostTables {
  readonly exact: ReadonlyMap<string, HostTable>;
  /** Longest suffix first; ties broken alphabetically for determinism. */
  readonly wildcards: readonly HostTable[];
  readonly any: HostTable | null;
  /** False when every route is any-host: the hot path skips host handling. */
  readonly hostSpecific: boolean;
}

/**
 * Normalises a request Host header value for lookup: strips `:port`, keeps an
 * IPv6 literal's brackets (`[::1]:8080` → `[::1]`), drops one trailing dot
 * (`example.com.`) and lower-cases. Returns the input itself when nothing
 * changes (no allocation in the common case).
 */
export function normaliseHost(host: string): string {
  const n = host.length;
  if (n === 0) return host;
  let end = n;
  let upper = false;
  if (host.charCodeAt(0) === 91 /* [ */) {
    const close = host.indexOf(']');
    end = close === -1 ? n : close + 1;
    for (let i = 1; i < end; i++) {
      const c = host.charCodeAt(i);
      if (c >= 65 && c <= 90) upper = true;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const c = host.charCodeAt(i);
      if (c === 58 /* : */) {
        end = i;
        break;
      }
      if (c >= 65 && c <= 90) upper = true;
    }
    if (end > 1 && host.charCodeAt(end - 1) === 46 /* . */) end--;
  }
  const h = end === n ? host : host.slice(0, end);
  return upper ? h.toLowerCase() : h;
}

/** Normalises a configured host (`API.example.com.` → `api.example.com`). */
function configHost(host: string): string {
  return normaliseHost(host.trim());
}

/** Groups compiled routes by host and builds one tree per group. */
export function buildHostTables(routes: readonly CompiledRoute[]): HostTables {
  const groups = new Map<string | null, CompiledRoute[]>();
  for (const r of routes) {
    const key = r.match.host === null || r.match.host === '' || r.match.host === '*' ? null : configHost(r.match.host);
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = []));
    g.push(r);
  }
  const exact = new Map<string, HostTable>();
  const wildcards: HostTable[] = [];
  let any: HostTable | null = null;
  for (const [host, group] of groups) {
    const root = buildTree(group);
    if (host === null) {
      any = Object.freeze({ kind: 'any' as const, host: null, suffix: '', root, routes: group });
    } else if (host.startsWith('*.')) {
      wildcards.push(Object.freeze({ kind: 'wildcard' as const, host, suffix: host.slice(1), root, routes: group }));
    } else {
      exact.set(host, Object.freeze({ kind: 'exact' as const, host, suffix: '', root, routes: group }));
    }
  }
  wildcards.sort((a, b) => b.suffix.length - a.suffix.length || (a.suffix < b.suffix ? -1 : 1));
  return Object.freeze({ exact, wildcards: Object.freeze(wildcards), any, hostSpecific: exact.size > 0 || wildcards.length > 0 });
}

/** Whether a normalised request host falls under a wildcard table (depth >= 1, not the apex). */
export function wildcardCovers(table: HostTable, host: string): boolean {
  return host.length > table.suffix.length && host.endsWith(table.suffix);
}

/**
 * The tables searched for a request host, in lookup order (used by explain;
 * the hot path inlines the same order).
 */
export function tablesFor(tables: HostTables, rawHost: string): HostTable[] {
  const out: HostTable[] = [];
  if (tables.hostSpecific) {
    const host = normaliseHost(rawHost);
    const t = tables.exact.get(host);
    if (t !== undefined) out.push(t);
    for (const w of tables.wildcards) if (wildcardCovers(w, host)) out.push(w);
  }
  if (tables.any !== null) out.push(tables.any);
  return out;
}
