/**
 * Field paths of the transform kind, compiled once at config load:
 * `address.city`, `items[].id`, `password*`. A path is a list of steps split
 * at dots; a step is a key (with `*` globs where the operation allows them),
 * followed by one `[]` per array level it steps into. The `allow` and
 * `remove` lists compile into one trie each ({@link PathNode}); `rename` and
 * `set` paths stay step lists. Nothing here runs a regex per request: a glob
 * is its literal pieces, matched with startsWith/endsWith/indexOf.
 */

/** One step of a path: a key (or key glob) and how many array levels follow it. */
export interface Step {
  readonly key: string;
  /** The key holds `*` (allow/remove only). */
  readonly glob: boolean;
  /** Number of `[]` after the key: the value is an array (of arrays...) whose elements the path goes on into. */
  readonly each: number;
}

/** A path that does not parse: `message` says why (for a config issue). */
export class PathError extends Error {
  override readonly name = 'PathError';
}

/**
 * Parses `text` into steps. Keys are any characters but `.`, `[` and `]`
 * (a key holding a dot cannot be addressed); `*` is a glob when `globs`.
 */
export function parsePath(text: string, globs: boolean): Step[] {
  if (text === '') throw new PathError('empty path');
  const out: Step[] = [];
  for (const seg of text.split('.')) {
    if (seg === '') throw new PathError(`"${text}": empty step (a leading, trailing or double dot)`);
    const open = seg.indexOf('[');
    const key = open < 0 ? seg : seg.slice(0, open);
    let rest = open < 0 ? '' : seg.slice(open);
    if (key === '') throw new PathError(`"${text}": "[]" must follow a field name (as in items[].id)`);
    if (key.includes(']')) throw new PathError(`"${text}": "]" without "["`);
    let each = 0;
    while (rest.startsWith('[]')) { each++; rest = rest.slice(2); }
    if (rest !== '') throw new PathError(`"${text}": only "[]" (every element) may follow a field name; indexes are not supported`);
    const glob = key.includes('*');
    if (glob && !globs) throw new PathError(`"${text}": "*" globs are allowed in allow and remove paths only`);
    out.push({ key, glob, each });
  }
  return out;
}

/** A `*` glob over one key, compiled to its literal pieces. */
export class KeyGlob {
  /** The literal pieces between the stars (`pass*d` → ['pass', 'd']). */
  private readonly parts: readonly string[];
  /** Sum of the pieces' lengths: a shorter key cannot match. */
  private readonly min: number;

  constructor(readonly pattern: string) {
    this.parts = pattern.split('*');
    this.min = this.parts.reduce((n, p) => n + p.length, 0);
  }

  /** Whether `key` matches. why: plain string scans, no regex per request. */
  matches(key: string): boolean {
    const parts = this.parts;
    const n = parts.length;
    if (key.length < this.min) return false;
    const first = parts[0];
    const last = parts[n - 1];
    if (!key.startsWith(first) || !key.endsWith(last)) return false;
    let at = first.length;
    const end = key.length - last.length;
    for (let i = 1; i < n - 1; i++) {
      const p = parts[i];
      const j = key.indexOf(p, at);
      if (j < 0 || j + p.length > end) return false;
      at = j + p.length;
    }
    return true;
  }
}

/** A node of an allow/remove trie: what the paths say about one value. */
export class PathNode {
  /** A path ends here: the whole value is allowed (or removed). */
  end = false;
  /** Children by exact key (with the subtrees of the globs that match the key merged in). */
  exact: Map<string, PathNode> | null = null;
  /** Exact keys in the order the paths list them (projection output order). */
  keys: string[] | null = null;
  globs: KeyGlob[] | null = null;
  globNodes: PathNode[] | null = null;
  /** `[]`: the node of the elements, when the value is an array. */
  each: PathNode | null = null;

  /** The child for `key`: exact, else the one glob that matches, else a union of the globs that match (rare), else null. */
  child(key: string): PathNode | null {
    if (this.exact !== null) {
      const e = this.exact.get(key);
      if (e !== undefined) return e;
    }
    const globs = this.globs;
    if (globs === null) return null;
    let found: PathNode | null = null;
    for (let i = 0; i < globs.length; i++) {
      if (!globs[i].matches(key)) continue;
      found = found === null ? this.globNodes![i] : union(found, this.globNodes![i]);
    }
    return found;
  }
}

function exactChild(node: PathNode, key: string): PathNode {
  node.exact ??= new Map();
  let c = node.exact.get(key);
  if (c === undefined) {
    c = new PathNode();
    node.exact.set(key, c);
    (node.keys ??= []).push(key);
  }
  return c;
}

function globChild(node: PathNode, pattern: string): PathNode {
  node.globs ??= [];
  node.globNodes ??= [];
  const i = node.globs.findIndex((g) => g.pattern === pattern);
  if (i >= 0) return node.globNodes[i];
  const c = new PathNode();
  node.globs.push(new KeyGlob(pattern));
  node.globNodes.push(c);
  return c;
}

/** A new node holding what `a` and `b` say (subtrees present on one side only are shared, never changed). */
export function union(a: PathNode, b: PathNode): PathNode {
  const out = new PathNode();
  out.end = a.end || b.end;
  if (out.end) return out;
  for (const src of [a, b]) {
    if (src.keys !== null) {
      for (const k of src.keys) {
        const mine = out.exact?.get(k);
        const theirs = src.exact!.get(k)!;
        if (mine === undefined) { exactChild(out, k); out.exact!.set(k, theirs); } else out.exact!.set(k, union(mine, theirs));
      }
    }
    if (src.globs !== null) {
      for (let i = 0; i < src.globs.length; i++) {
        const at = out.globs === null ? -1 : out.globs.findIndex((g) => g.pattern === src.globs![i].pattern);
        if (at < 0) { globChild(out, src.globs[i].pattern); out.globNodes![out.globNodes!.length - 1] = src.globNodes![i]; } else out.globNodes![at] = union(out.globNodes![at], src.globNodes![i]);
      }
    }
    if (src.each !== null) out.each = out.each === null ? src.each : union(out.each, src.each);
  }
  return finalize(out);
}

/** Merges into each exact child the subtrees of the globs that match its key (so lookups by exact key see them), recursively. */
function finalize(node: PathNode): PathNode {
  if (node.end) return node;
  if (node.keys !== null) {
    for (const k of node.keys) {
      let c = node.exact!.get(k)!;
      if (node.globs !== null) for (let i = 0; i < node.globs.length; i++) if (node.globs[i].matches(k)) c = union(c, node.globNodes![i]);
      node.exact!.set(k, finalize(c));
    }
  }
  if (node.globNodes !== null) for (let i = 0; i < node.globNodes.length; i++) node.globNodes[i] = finalize(node.globNodes[i]);
  if (node.each !== null) node.each = finalize(node.each);
  return node;
}

/** Compiles parsed paths into one trie (the root stands for the body). */
export function compileTrie(paths: readonly Step[][]): PathNode {
  const root = new PathNode();
  for (const steps of paths) {
    let node = root;
    for (const s of steps) {
      node = s.glob ? globChild(node, s.key) : exactChild(node, s.key);
      for (let i = 0; i < s.each; i++) node = (node.each ??= new PathNode());
    }
    node.end = true;
  }
  return finalize(root);
}

/** Whether `a` is `b` or a path inside it (or the reverse), step by step. */
export function overlaps(a: readonly Step[], b: readonly Step[]): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i].key !== b[i].key) return false;
  return true;
}

/** The steps as text again (for messages). */
export function pathText(steps: readonly Step[]): string {
  return steps.map((s) => s.key + '[]'.repeat(s.each)).join('.');
}
