/**
 * Request coalescing, per worker and per primary key: the first request
 * that must go upstream for a key (a miss or a revalidation) leads a fill;
 * requests for the same key meanwhile wait for it instead of going upstream
 * too. The fill settles with the stored entry (the waiters are answered from
 * it), a stale entry the leader served on an upstream error (the waiters get
 * it too), or nothing (the response was not cacheable, too large, failed
 * without a usable stale entry, or the leader went away): the waiters then
 * go upstream themselves (hit-for-pass). A wait is bounded: a fill not
 * settled within its timeout (the route's request timeout) releases its
 * waiters upstream. Each worker coalesces on its own, so N workers send at
 * most N requests for one key.
 */
import type { CacheEntry } from './cache-entry.js';

/** How a waiter learns the outcome: the entry and whether it is a stale one (null: go upstream). */
export type FillWaiter = (entry: CacheEntry | null, stale: boolean) => void;

/** One fill in progress. */
export class Fill {
  readonly waiters: FillWaiter[] = [];
  settled = false;
  timer: NodeJS.Timeout | null = null;

  constructor(readonly key: string) {}
}

/** The fills in progress of one cache policy in one worker. */
export class Fills {
  private readonly byKey = new Map<string, Fill>();

  /** The fill in progress for `key`, if any. */
  get(key: string): Fill | undefined {
    return this.byKey.get(key);
  }

  /** Starts a fill for `key`; its waiters are released after `timeoutMs` if it has not settled. */
  start(key: string, timeoutMs: number): Fill {
    const fill = new Fill(key);
    this.byKey.set(key, fill);
    fill.timer = setTimeout(() => this.settle(fill, null, false), timeoutMs);
    fill.timer.unref();
    return fill;
  }

  /** Adds a waiter to a fill in progress. */
  wait(fill: Fill, waiter: FillWaiter): void {
    fill.waiters.push(waiter);
  }

  /** Ends a fill (idempotent) and tells its waiters. */
  settle(fill: Fill, entry: CacheEntry | null, stale: boolean): void {
    if (fill.settled) return;
    fill.settled = true;
    if (fill.timer !== null) clearTimeout(fill.timer);
    fill.timer = null;
    if (this.byKey.get(fill.key) === fill) this.byKey.delete(fill.key);
    const waiters = fill.waiters;
    for (let i = 0; i < waiters.length; i++) {
      try {
        waiters[i](entry, stale);
      } catch {
        // A waiter answers its own request; one failing must not strand the rest.
      }
    }
    waiters.length = 0;
  }

  /** Fills in progress (status, tests). */
  get size(): number {
    return this.byKey.size;
  }

  /** Releases every waiter (worker drain). */
  close(): void {
    for (const f of [...this.byKey.values()]) this.settle(f, null, false);
  }
}
