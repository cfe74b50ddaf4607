/**
 * The JSON operations of one side (request or response) of a transform
 * policy, compiled once: `allow` (projection), `remove`, `rename`, `set`, in
 * that fixed order. Per request they walk the parsed body along the
 * precompiled tries and step lists; a body that is a top-level array has
 * each operation applied to each of its elements.
 */
import type { RequestContext } from '../../ingress/request-context.js';
import { compileTemplate, renderTemplateRaw, type Template } from '../headers/template.js';
import { compileTrie, parsePath, type PathNode, type Step } from './json-path.js';

/** A `json` block as written in the config. */
export interface JsonOpsConfig {
  readonly allow?: readonly string[];
  readonly remove?: readonly string[];
  readonly rename?: Readonly<Record<string, string>>;
  readonly set?: Readonly<Record<string, unknown>>;
}

type Obj = Record<string, unknown>;

/** One rename: in place (same parent: `items[].a` → `items[].b`) or moved (no `[]` on either side). */
interface Rename {
  readonly from: readonly Step[];
  readonly to: readonly Step[];
  readonly inPlace: boolean;
}

/** One set: a constant JSON value, or a string template with `${...}` variables. */
interface SetOp {
  readonly steps: readonly Step[];
  readonly value: unknown;
  readonly template: Template | null;
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether two step lists are equal but for their last key (the same parent). */
export function sameParent(a: readonly Step[], b: readonly Step[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length - 1; i++) if (a[i].key !== b[i].key || a[i].each !== b[i].each) return false;
  return a[a.length - 1].each === 0 && b[b.length - 1].each === 0;
}

/** A string that uses variables (holds `${`), compiled as a template; null for other values. */
export function setTemplate(value: unknown): Template | null {
  return typeof value === 'string' && value.includes('${') ? compileTemplate(value, true) : null;
}

/** The compiled operations of one side. Construct only from a check-valid config (it throws otherwise). */
export class JsonOps {
  private readonly allow: PathNode | null;
  private readonly remove: PathNode | null;
  private readonly renames: readonly Rename[];
  private readonly sets: readonly SetOp[];

  constructor(config: JsonOpsConfig) {
    this.allow = config.allow === undefined ? null : compileTrie(config.allow.map((p) => parsePath(p, true)));
    this.remove = config.remove === undefined ? null : compileTrie(config.remove.map((p) => parsePath(p, true)));
    this.renames = Object.entries(config.rename ?? {}).map(([f, t]) => {
      const from = parsePath(f, false);
      const to = parsePath(t, false);
      return { from, to, inPlace: sameParent(from, to) };
    });
    this.sets = Object.entries(config.set ?? {}).map(([p, value]) => ({ steps: parsePath(p, false), value, template: setTemplate(value) }));
  }

  /** Applies every operation to a parsed body; returns the new body (the projection builds a new one). */
  apply(body: unknown, ctx: RequestContext): unknown {
    if (Array.isArray(body)) {
      for (let i = 0; i < body.length; i++) body[i] = this.applyOne(body[i], ctx);
      return body;
    }
    return this.applyOne(body, ctx);
  }

  private applyOne(body: unknown, ctx: RequestContext): unknown {
    if (!isObj(body)) return body; // a scalar body has no fields
    let out: Obj = body;
    if (this.allow !== null) out = projectObject(out, this.allow);
    if (this.remove !== null) removeIn(out, this.remove);
    const renames = this.renames;
    for (let i = 0; i < renames.length; i++) rename(out, renames[i]);
    const sets = this.sets;
    for (let i = 0; i < sets.length; i++) {
      const s = sets[i];
      setIn(out, s.steps, 0, s.template === null ? s.value : renderTemplateRaw(s.template, ctx));
    }
    return out;
  }
}

/**
 * The projection of an object: the fields the trie allows. why: a node with
 * only exact keys looks up its few keys (in the allow list's order) rather
 * than scanning every field of a large object; with globs it scans the
 * object's fields (in their order).
 */
function projectObject(obj: Obj, node: PathNode): Obj {
  const out: Obj = {};
  if (node.globs === null) {
    const keys = node.keys;
    if (keys === null) return out;
    const exact = node.exact!;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (!Object.hasOwn(obj, k)) continue;
      const v = projectValue(obj[k], exact.get(k)!);
      if (v !== undefined) out[k] = v;
    }
    return out;
  }
  for (const k in obj) {
    const child = node.child(k);
    if (child === null) continue;
    const v = projectValue(obj[k], child);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** What a node keeps of a value (undefined: nothing). */
function projectValue(v: unknown, node: PathNode): unknown {
  if (node.end) return v;
  if (Array.isArray(v)) {
    const each = node.each;
    if (each === null) return undefined;
    if (each.end) return v;
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const e = projectValue(v[i], each);
      out[i] = e === undefined ? null : e;
    }
    return out;
  }
  if (isObj(v) && (node.keys !== null || node.globs !== null)) return projectObject(v, node);
  return undefined;
}

/** Removes what the trie names from an object (in place). */
function removeIn(obj: Obj, node: PathNode): void {
  if (node.globs === null) {
    const keys = node.keys;
    if (keys === null) return;
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (Object.hasOwn(obj, k)) removeAt(obj, k, node.exact!.get(k)!);
    }
    return;
  }
  for (const k in obj) {
    const child = node.child(k);
    if (child !== null) removeAt(obj, k, child);
  }
}

function removeAt(obj: Obj, k: string, child: PathNode): void {
  if (child.end) { delete obj[k]; return; }
  removeInValue(obj[k], child);
}

function removeInValue(v: unknown, node: PathNode): void {
  if (Array.isArray(v)) {
    const each = node.each;
    if (each === null) return;
    if (each.end) { v.length = 0; return; }
    for (let i = 0; i < v.length; i++) removeInValue(v[i], each);
    return;
  }
  if (isObj(v)) removeIn(v, node);
}

type ParentFn = (parent: Obj, key: string, r: Rename) => void;

/** The containers a path's last step lives in (each element, for `[]` steps), passed to `fn`. */
function forEachParent(v: unknown, steps: readonly Step[], i: number, fn: ParentFn, r: Rename): void {
  if (!isObj(v)) return;
  const s = steps[i];
  if (i === steps.length - 1) { fn(v, s.key, r); return; }
  if (!Object.hasOwn(v, s.key)) return;
  eachLevel(v[s.key], s.each, steps, i + 1, fn, r);
}

function eachLevel(v: unknown, levels: number, steps: readonly Step[], i: number, fn: ParentFn, r: Rename): void {
  if (levels === 0) { forEachParent(v, steps, i, fn, r); return; }
  if (!Array.isArray(v)) return;
  for (let j = 0; j < v.length; j++) eachLevel(v[j], levels - 1, steps, i, fn, r);
}

// why: module-level callbacks (and one "taken" slot; the walk is synchronous)
// instead of a closure per rename per request.
let taken: unknown;
let tookAny = false;

function renameIn(parent: Obj, key: string, r: Rename): void {
  if (!Object.hasOwn(parent, key)) return;
  parent[r.to[r.to.length - 1].key] = parent[key];
  delete parent[key];
}

function take(parent: Obj, key: string): void {
  if (!Object.hasOwn(parent, key)) return;
  taken = parent[key];
  tookAny = true;
  delete parent[key];
}

function rename(root: Obj, r: Rename): void {
  if (r.inPlace) { forEachParent(root, r.from, 0, renameIn, r); return; }
  // Moved across parents (no `[]` on either side, checked at load): take it out, set it at the target.
  tookAny = false;
  forEachParent(root, r.from, 0, take, r);
  if (!tookAny) return;
  const value = taken;
  taken = undefined;
  setIn(root, r.to, 0, value);
}

/**
 * Sets `value` at the path from step `i`: missing (or null) intermediate
 * fields become objects; an intermediate that is another kind of value (a
 * string, a number, an array not addressed with `[]`) leaves the body as it is.
 */
function setIn(obj: Obj, steps: readonly Step[], i: number, value: unknown): void {
  const s = steps[i];
  if (i === steps.length - 1) { obj[s.key] = value; return; }
  let next = obj[s.key];
  if (s.each > 0) { setEach(next, s.each, steps, i + 1, value); return; }
  if (next === undefined || next === null) obj[s.key] = next = {};
  if (isObj(next)) setIn(next, steps, i + 1, value);
}

function setEach(v: unknown, levels: number, steps: readonly Step[], i: number, value: unknown): void {
  if (!Array.isArray(v)) return;
  for (let j = 0; j < v.length; j++) {
    const e = v[j];
    if (levels > 1) setEach(e, levels - 1, steps, i, value);
    else if (isObj(e)) setIn(e, steps, i, value);
  }
}
