/**
 * The per-request matcher. Hot path: no regex, no closures, no split(); the
 * path is walked with charCodeAt loops and only captures are sliced. No
 * allocation on a match without percent-escapes beyond the param slices.
 *
 * Semantics (also documented on compileRouter):
 * - Depth-first with backtracking; at each segment static edges are tried,
 *   then the param edge, then a wildcard ending here. A branch that yields no
 *   route (path mismatch, method mismatch or predicates rejecting every route
 *   on the node) falls back to the next lower-precedence edge, so a
 *   predicate-guarded `/api/x` that rejects the request still lets
 *   `/api/*` serve it.
 * - On a node, candidates are filtered by method, then predicates, in the
 *   order "more predicates first, then config order".
 * - No route: 405 when some tree node matched the path but no route there
 *   accepted the method (and no method-accepting route was turned away by its
 *   predicates); otherwise null (404).
 */
import type { RequestLookup } from './types.js';
import { BAD_PATH, methodNotAllowed, type BadPath, type CompiledRoute, type MatchResult } from './compiled-route.js';
import type { RouteSet, TreeNode } from './radix-tree.js';
import { normaliseHost, wildcardCovers, type HostTables } from './host-table.js';

/** Placeholder lookup so the module never retains a request context between calls. */
const NO_LOOKUP: RequestLookup = {
  header(): string {
    return '';
  },
  queryParam(): string | undefined {
    return undefined;
  },
};

// why: matching is synchronous and never re-entered (RequestLookup
// implementations must not call back into a router), so the per-call state
// lives in module slots instead of an object allocated per request. The path
// itself is passed as an argument (a register, not a context load).
let method = '';
let lookup: RequestLookup = NO_LOOKUP;
/** Capture k spans path[caps[2k], caps[2k+1]). */
let caps = new Int32Array(64);
const missSets: RouteSet[] = [];
let missCount = 0;
let predicateMiss = false;

/** Grows the shared capture buffer for patterns with many params (compile time). */
export function ensureCaptureCapacity(captures: number): void {
  if (caps.length < captures * 2) caps = new Int32Array(captures * 2);
}

function predicatesPass(r: CompiledRoute): boolean {
  const hn = r.headerNames;
  for (let i = 0; i < hn.length; i++) {
    if (lookup.header(hn[i]) !== r.headerValues[i]) return false;
  }
  const qn = r.queryNames;
  for (let i = 0; i < qn.length; i++) {
    if (lookup.queryParam(qn[i]) !== r.queryValues[i]) return false;
  }
  return true;
}

function select(set: RouteSet): CompiledRoute | null {
  let list = set.anyMethod;
  const ms = set.methods;
  for (let i = 0; i < ms.length; i++) {
    if (ms[i] === method) {
      list = set.lists[i];
      break;
    }
  }
  if (list.length === 0) {
    missSets[missCount++] = set;
    return null;
  }
  for (let i = 0; i < list.length; i++) {
    const r = list[i];
    if (r.predicateCount === 0 || predicatesPass(r)) return r;
  }
  predicateMiss = true;
  return null;
}

/** The path is exhausted at `node`: routes ending here, else a wildcard with an empty rest. */
function terminal(node: TreeNode, path: string, k: number): CompiledRoute | null {
  const len = path.length;
  if (node.routes !== null) {
    const r = select(node.routes);
    if (r !== null) return r;
  }
  if (node.wildcard !== null) {
    caps[2 * k] = len;
    caps[2 * k + 1] = len;
    return select(node.wildcard);
  }
  return null;
}

/** Matches the segment starting at `pos` (just after a '/') and the rest below `node`. */
function walk(node: TreeNode, path: string, pos: number, k: number): CompiledRoute | null {
  const len = path.length;
  let r: CompiledRoute | null;
  const n = node.labels.length;
  if (n !== 0 && pos < len) {
    const c = path.charCodeAt(pos);
    const fi = node.firstIndex;
    let i = fi !== null && c < 128 ? fi[c] : 0;
    if (i >= 0) {
      const codes = node.codes;
      const labels = node.labels;
      for (; i < n; i++) {
        const code = codes[i];
        if (code > c) break; // edges are sorted by first char
        if (code !== c) continue;
        // why: an inlined charCodeAt loop; startsWith() is a builtin call that
        // showed up as the top line in the profile.
        const label = labels[i];
        const e = pos + label.length;
        if (e > len) continue;
        let j = pos + 1;
        while (j < e && path.charCodeAt(j) === label.charCodeAt(j - pos)) j++;
        if (j !== e) continue;
        if (e === len) {
          r = terminal(node.children[i], path, k);
          if (r !== null) return r;
          break;
        }
        if (path.charCodeAt(e) === 47) {
          r = walk(node.children[i], path, e + 1, k);
          if (r !== null) return r;
          break;
        }
        // `user` is a prefix of `users`: keep scanning the edges.
      }
    }
  }
  const empty = node.empty;
  if (empty !== null) {
    if (pos === len) {
      r = terminal(empty, path, k);
      if (r !== null) return r;
    } else if (path.charCodeAt(pos) === 47) {
      r = walk(empty, path, pos + 1, k);
      if (r !== null) return r;
    }
  }
  const param = node.param;
  if (param !== null) {
    // why: segments are short; a charCodeAt scan beats the indexOf builtin call.
    let end = pos;
    while (end < len && path.charCodeAt(end) !== 47) end++;
    if (end > pos) {
      caps[2 * k] = pos;
      caps[2 * k + 1] = end;
      r = end === len ? terminal(param, path, k + 1) : walk(param, path, end + 1, k + 1);
      if (r !== null) return r;
    }
  }
  if (node.wildcard !== null) {
    caps[2 * k] = pos;
    caps[2 * k + 1] = len;
    return select(node.wildcard);
  }
  return null;
}

function decodeParam(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

function clearParams(params: string[]): void {
  while (params.length > 0) params.pop();
}

function writeParams(route: CompiledRoute, path: string, params: string[]): CompiledRoute | BadPath {
  const n = route.paramNames.length;
  // why: assigning `params.length` is a runtime call; pop() is inlined and
  // writing at index == length appends in place.
  while (params.length > n) params.pop();
  if (n === 0) return route;
  // why: one scan for '%' per request; captures are decoded only when needed.
  const anyPercent = path.indexOf('%') !== -1;
  // The wildcard rest spans segments and is forwarded raw: never decoded.
  const decodable = route.hasWildcard ? n - 1 : n;
  for (let i = 0; i < n; i++) {
    const s = caps[2 * i];
    const e = caps[2 * i + 1];
    const raw = path.slice(s, e);
    if (!anyPercent || i >= decodable) {
      params[i] = raw;
      continue;
    }
    const q = path.indexOf('%', s);
    if (q === -1 || q >= e) {
      params[i] = raw;
      continue;
    }
    const decoded = decodeParam(raw);
    if (decoded === null) {
      clearParams(params);
      return BAD_PATH;
    }
    params[i] = decoded;
  }
  return route;
}

function notAllowed(): MatchResult {
  const first = missSets[0].notAllowed;
  let same = true;
  for (let i = 1; i < missCount; i++) if (missSets[i].notAllowed !== first) same = false;
  if (same) return first;
  const methods: string[] = [];
  for (let i = 0; i < missCount; i++) {
    const na = missSets[i].notAllowed;
    if (na !== null) methods.push(...na.allow);
  }
  return methodNotAllowed(methods);
}

/**
 * Matches one request against host tables. See the module comment for the
 * precedence rules; `params` is overwritten (length adjusted) with the captures of
 * the returned route in `route.paramNames` order.
 */
export function matchRequest(tables: HostTables, m: string, host: string, p: string, lk: RequestLookup, params: string[]): MatchResult {
  if (p.length === 0 || p.charCodeAt(0) !== 47) {
    clearParams(params);
    return null;
  }
  method = m;
  lookup = lk;
  missCount = 0;
  predicateMiss = false;
  let route: CompiledRoute | null = null;
  if (tables.hostSpecific) {
    const h = normaliseHost(host);
    const exact = tables.exact.get(h);
    if (exact !== undefined) route = walk(exact.root, p, 1, 0);
    if (route === null) {
      const ws = tables.wildcards;
      for (let i = 0; i < ws.length; i++) {
        if (!wildcardCovers(ws[i], h)) continue;
        route = walk(ws[i].root, p, 1, 0);
        if (route !== null) break;
      }
    }
  }
  if (route === null && tables.any !== null) route = walk(tables.any.root, p, 1, 0);
  lookup = NO_LOOKUP;
  if (route !== null) return writeParams(route, p, params);
  clearParams(params);
  if (predicateMiss || missCount === 0) return null;
  return notAllowed();
}
