/**
 * The immutable segment radix tree one host table matches paths against.
 *
 * Each node is the position after some path segment. Its edges are:
 * - static children, keyed by a label of one or more whole segments
 *   (single-child chains without routes are compressed: `v1/orgs`), matched
 *   with `startsWith` at the current offset plus a segment-boundary check;
 * - `empty`: the static child for an empty segment (`/a/` has one);
 * - `param`: one child shared by every `:name` at this position (names are
 *   per route, see `CompiledRoute.paramNames`);
 * - `wildcard`: routes whose pattern ends with `*` here.
 * `routes` holds routes whose pattern ends exactly at this node.
 */
import type { CompiledRoute, MethodNotAllowed } from './compiled-route.js';
import { methodNotAllowed } from './compiled-route.js';

/** Routes attached to one tree position, pre-sorted and indexed by method. */
export interface RouteSet {
  /** Methods named by some route here, most common first (GET, POST, ...). */
  readonly methods: readonly string[];
  /** `lists[i]`: routes accepting `methods[i]` (incl. any-method routes), best first. */
  readonly lists: readonly (readonly CompiledRoute[])[];
  /** Routes accepting any method, best first (used for methods not in byMethod). */
  readonly anyMethod: readonly CompiledRoute[];
  /** Every route here, best first: more predicates first, then config order. */
  readonly all: readonly CompiledRoute[];
  /** Precomputed 405 for this set; null when an any-method route is present. */
  readonly notAllowed: MethodNotAllowed | null;
}

/** One immutable tree node (a class so every node has the same V8 shape). */
export class TreeNode {
  /** Static edge labels (one or more segments, never empty), sorted by first char. */
  readonly labels: readonly string[];
  /** `labels[i].charCodeAt(0)`. */
  readonly codes: readonly number[];
  readonly children: readonly TreeNode[];
  /** For nodes with many static edges: first index in `labels` per ASCII first char, -1 = none. */
  readonly firstIndex: Int16Array | null;
  readonly empty: TreeNode | null;
  readonly param: TreeNode | null;
  readonly routes: RouteSet | null;
  readonly wildcard: RouteSet | null;

  constructor(labels: string[], children: TreeNode[], empty: TreeNode | null, param: TreeNode | null, routes: RouteSet | null, wildcard: RouteSet | null) {
    this.labels = labels;
    this.codes = labels.map((l) => l.charCodeAt(0));
    this.children = children;
    this.firstIndex = buildFirstIndex(this.codes);
    this.empty = empty;
    this.param = param;
    this.routes = routes;
    this.wildcard = wildcard;
  }
}

// why: with more than a handful of static edges (e.g. 30 resources under
// /v1) a 128-entry table jumps straight to the labels sharing the first char.
const FIRST_INDEX_MIN_EDGES = 5;

function buildFirstIndex(codes: readonly number[]): Int16Array | null {
  if (codes.length < FIRST_INDEX_MIN_EDGES) return null;
  const table = new Int16Array(128).fill(-1);
  for (let i = codes.length - 1; i >= 0; i--) {
    if (codes[i] < 128) table[codes[i]] = i;
  }
  return table;
}

/** Orders routes on one node: more predicates first, then config order. */
export function compareOnNode(a: CompiledRoute, b: CompiledRoute): number {
  return b.predicateCount - a.predicateCount || a.index - b.index;
}

const COMMON_METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];

function methodRank(m: string): number {
  const i = COMMON_METHODS.indexOf(m);
  return i === -1 ? COMMON_METHODS.length : i;
}

/** Builds the method-indexed set for routes sharing one tree position. */
export function buildRouteSet(routes: readonly CompiledRoute[]): RouteSet | null {
  if (routes.length === 0) return null;
  const all = [...routes].sort(compareOnNode);
  const anyMethod = all.filter((r) => r.allow === null);
  const methods = new Set<string>();
  for (const r of all) if (r.allow !== null) for (const m of r.allow) methods.add(m);
  // why: a short array scanned with === beats hashing the method in a Map;
  // the common methods come first so GET is usually found at index 0.
  const ordered = [...methods].sort((a, b) => methodRank(a) - methodRank(b) || (a < b ? -1 : 1));
  return Object.freeze({
    methods: Object.freeze(ordered),
    lists: Object.freeze(ordered.map((m) => Object.freeze(all.filter((r) => r.allow === null || r.allow.has(m))))),
    anyMethod: Object.freeze(anyMethod),
    all: Object.freeze(all),
    notAllowed: anyMethod.length > 0 ? null : methodNotAllowed(methods),
  });
}

/** Mutable trie used only while compiling. */
class Builder {
  readonly statics = new Map<string, Builder>();
  param: Builder | null = null;
  readonly routes: CompiledRoute[] = [];
  readonly wildcard: CompiledRoute[] = [];

  isPassThrough(): boolean {
    // A node that can be folded into its parent's edge label.
    if (this.routes.length > 0 || this.wildcard.length > 0 || this.param !== null || this.statics.size !== 1) return false;
    return !this.statics.has('');
  }
}

function insert(root: Builder, route: CompiledRoute): void {
  let node = root;
  for (const seg of route.pattern.segments) {
    if (seg.kind === 'wildcard') {
      node.wildcard.push(route);
      return;
    }
    if (seg.kind === 'param') {
      if (node.param === null) node.param = new Builder();
      node = node.param;
    } else {
      let next = node.statics.get(seg.value);
      if (next === undefined) {
        next = new Builder();
        node.statics.set(seg.value, next);
      }
      node = next;
    }
  }
  node.routes.push(route);
}

function freeze(b: Builder): TreeNode {
  const edges: Array<[string, TreeNode]> = [];
  let empty: TreeNode | null = null;
  for (const [label, child] of b.statics) {
    if (label === '') {
      empty = freeze(child);
      continue;
    }
    let full = label;
    let cur = child;
    while (cur.isPassThrough()) {
      const [nextLabel, next] = cur.statics.entries().next().value as [string, Builder];
      full += '/' + nextLabel;
      cur = next;
    }
    edges.push([full, freeze(cur)]);
  }
  edges.sort((x, y) => x[0].charCodeAt(0) - y[0].charCodeAt(0) || (x[0] < y[0] ? -1 : 1));
  return new TreeNode(
    edges.map((e) => e[0]),
    edges.map((e) => e[1]),
    empty,
    b.param === null ? null : freeze(b.param),
    buildRouteSet(b.routes),
    buildRouteSet(b.wildcard),
  );
}

/**
 * Builds the tree for one host table. The root is the position before the
 * first segment (every path starts with `/`). Deterministic: the same routes
 * in the same order give the same tree.
 */
export function buildTree(routes: readonly CompiledRoute[]): TreeNode {
  const root = new Builder();
  for (const r of routes) insert(root, r);
  return freeze(root);
}

/** Calls `visit` for every route set in precedence (depth-first match) order. */
export function forEachRouteSet(node: TreeNode, visit: (set: RouteSet) => void): void {
  if (node.routes !== null) visit(node.routes);
  for (const c of node.children) forEachRouteSet(c, visit);
  if (node.empty !== null) forEachRouteSet(node.empty, visit);
  if (node.param !== null) forEachRouteSet(node.param, visit);
  if (node.wildcard !== null) visit(node.wildcard);
}
