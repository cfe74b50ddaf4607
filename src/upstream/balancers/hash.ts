import type { Target } from '../target.js';
import { hashString } from '../../lib/hash-string.js';
import type { Balancer } from './types.js';

/** Ring points per unit of weight. 100 keeps the per-target share within a few percent of ideal. */
export const VIRTUAL_NODES_PER_WEIGHT = 100;

/**
 * Consistent hashing on a ring of virtual nodes. Each target owns
 * `round(weight * 100)` points placed at `hash(url + '#' + i)`; a key goes to
 * the owner of the first point at or after `hash(key)` (wrapping). Because
 * the points depend only on each target's own URL, removing a target (or it
 * becoming unavailable) moves only the keys it owned (~1/N of them); every
 * other key keeps its target. When the owner is unavailable the lookup walks
 * clockwise to the next point owned by an available target.
 */
export class HashBalancer implements Balancer {
  // why: two parallel typed arrays (sorted point hashes, owning target index)
  // make the lookup a binary search over contiguous memory with no objects.
  private readonly points: Uint32Array;
  private readonly owners: Uint32Array;

  /** @param targets the group's targets; the ring is built once here */
  constructor(targets: readonly Target[]) {
    const entries: Array<{ hash: number; owner: number }> = [];
    for (const t of targets) {
      const count = Math.max(1, Math.round(t.weight * VIRTUAL_NODES_PER_WEIGHT));
      for (let v = 0; v < count; v++) entries.push({ hash: hashString(`${t.url}#${v}`), owner: t.index });
    }
    // Ties (astronomically rare) are broken by URL order so every process builds the same ring.
    entries.sort((x, y) => x.hash - y.hash || targets[x.owner].url.localeCompare(targets[y.owner].url));
    this.points = new Uint32Array(entries.length);
    this.owners = new Uint32Array(entries.length);
    for (let i = 0; i < entries.length; i++) {
      this.points[i] = entries[i].hash;
      this.owners[i] = entries[i].owner;
    }
  }

  /** Number of points on the ring (for tests and diagnostics). */
  get size(): number {
    return this.points.length;
  }

  /** {@inheritDoc Balancer.pick} */
  pick(targets: readonly Target[], hashKey: string, now: number, panic: boolean): Target | null {
    // Cheap guard so an all-down group does not walk the whole ring.
    let any = panic && targets.length > 0;
    for (let i = 0; i < targets.length; i++) {
      if (targets[i].isAvailable(now)) {
        any = true;
        break;
      }
    }
    if (!any) return null;

    const points = this.points;
    const n = points.length;
    const h = hashString(hashKey);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid] < h) lo = mid + 1;
      else hi = mid;
    }
    let i = lo === n ? 0 : lo;
    for (let step = 0; step < n; step++) {
      const t = targets[this.owners[i]];
      if (panic || t.isAvailable(now)) return t;
      i = i + 1 === n ? 0 : i + 1;
    }
    return null;
  }
}

/** Factory registered under `hash`. */
export function createHashBalancer(targets: readonly Target[]): Balancer {
  return new HashBalancer(targets);
}
