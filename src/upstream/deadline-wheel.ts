/**
 * A per-worker deadline scheduler for upstream calls: a hashed timing wheel
 * of `tickMs` slots, each an intrusive doubly-linked list threaded through
 * the scheduled objects themselves, driven by one native timer armed for the
 * earliest occupied slot.
 *
 * - schedule / reschedule / cancel are O(1) and allocate nothing (the links
 *   are fields of the entry; compare a `setTimeout` per request, which
 *   allocates a Timeout object and inserts it into Node's per-duration list).
 * - A deadline fires no earlier than its time and at most one tick (plus the
 *   native timer's own lateness) after it.
 * - Deadlines beyond the wheel's span (`tickMs * slots`) wrap around: the
 *   entry waits in its slot for the round it belongs to.
 * - The native timer is re-armed only when a deadline earlier than the armed
 *   one is scheduled, or after it fired; cancelling leaves it alone (it then
 *   fires, finds nothing due, and re-arms for the next occupied slot).
 */

/** An object the wheel can schedule; the wheel owns the `dl*` fields. */
export interface DeadlineEntry {
  /** Next entry in the same slot (wheel-owned). */
  dlNext: DeadlineEntry | null;
  /** Previous entry in the same slot (wheel-owned). */
  dlPrev: DeadlineEntry | null;
  /** Tick the entry is due at; negative when not scheduled (wheel-owned, start at -1). */
  dlTick: number;
  /** Called once when the deadline passed (not when cancelled or moved before). */
  onDeadline(): void;
}

const UNSCHEDULED = -1;
/** Taken out of its slot by an expiry pass, callback not run yet. */
const DUE = -2;

/** The timing wheel; see the module comment. */
export class DeadlineWheel {
  private readonly tickMs: number;
  private readonly mask: number;
  private readonly slots: Array<DeadlineEntry | null>;
  private count = 0;
  /** Every tick up to and including this one has been expired. */
  private doneTick: number;
  private timer: NodeJS.Timeout | null = null;
  /** Tick the native timer is armed for (Infinity: not armed). */
  private armedTick = Infinity;
  /** Entries taken out by the current expiry pass (reused, never shrinks). */
  private readonly due: DeadlineEntry[] = [];
  private readonly onTimer: () => void;

  /**
   * @param tickMs slot width in ms: the precision of the deadlines
   * @param slots number of slots, a power of two (span = tickMs * slots)
   */
  constructor(tickMs = 10, slots = 1024) {
    if (!(tickMs > 0) || slots < 2 || (slots & (slots - 1)) !== 0) throw new Error('bad wheel geometry');
    this.tickMs = tickMs;
    this.mask = slots - 1;
    // why: filled by push so V8 keeps the array packed (no hole checks on access).
    this.slots = [];
    for (let i = 0; i < slots; i++) this.slots.push(null);
    this.doneTick = Math.floor(performance.now() / tickMs);
    this.onTimer = () => this.expire();
  }

  /** Number of scheduled entries. */
  get size(): number {
    return this.count;
  }

  /**
   * Schedules `entry` to fire at `atMs` (the `performance.now()` clock), moving
   * it if it was already scheduled. A time already past fires on the next tick.
   */
  schedule(entry: DeadlineEntry, atMs: number): void {
    let tick = Math.ceil(atMs / this.tickMs);
    if (tick <= this.doneTick) tick = this.doneTick + 1;
    if (entry.dlTick >= 0) {
      if (entry.dlTick === tick) return;
      this.unlink(entry);
    }
    entry.dlTick = tick;
    const slot = tick & this.mask;
    const head = this.slots[slot];
    entry.dlPrev = null;
    entry.dlNext = head;
    if (head !== null) head.dlPrev = entry;
    this.slots[slot] = entry;
    this.count++;
    if (tick < this.armedTick) this.arm(tick);
  }

  /** Cancels `entry` if it is scheduled (or taken out and not yet fired). */
  cancel(entry: DeadlineEntry): void {
    if (entry.dlTick >= 0) this.unlink(entry);
    entry.dlTick = UNSCHEDULED;
  }

  private unlink(entry: DeadlineEntry): void {
    const prev = entry.dlPrev;
    const next = entry.dlNext;
    if (prev === null) this.slots[entry.dlTick & this.mask] = next;
    else prev.dlNext = next;
    if (next !== null) next.dlPrev = prev;
    entry.dlPrev = null;
    entry.dlNext = null;
    this.count--;
  }

  /** Arms the native timer for `tick`. */
  private arm(tick: number): void {
    this.armedTick = tick;
    if (this.timer !== null) clearTimeout(this.timer);
    // +1: libuv's clock is whole milliseconds; firing a little early would
    // only cost an extra wake-up (expire re-arms), but avoid it.
    const delay = Math.max(1, Math.ceil(tick * this.tickMs - performance.now()) + 1);
    this.timer = setTimeout(this.onTimer, delay);
    this.timer.unref();
  }

  /** The native timer fired: run every due entry, then re-arm for the next occupied slot. */
  private expire(): void {
    this.timer = null;
    this.armedTick = Infinity;
    const nowTick = Math.floor(performance.now() / this.tickMs);
    const due = this.due;
    if (nowTick > this.doneTick) {
      if (this.count > 0) {
        const from = Math.max(this.doneTick + 1, nowTick - this.mask);
        for (let t = from; t <= nowTick; t++) {
          let e = this.slots[t & this.mask];
          while (e !== null) {
            const next = e.dlNext;
            if (e.dlTick <= nowTick) {
              this.unlink(e);
              e.dlTick = DUE;
              due.push(e);
            }
            e = next;
          }
        }
      }
      this.doneTick = nowTick;
    }
    try {
      // An entry cancelled or rescheduled by an earlier callback is no longer DUE.
      for (let i = 0; i < due.length; i++) {
        const e = due[i];
        if (e.dlTick !== DUE) continue;
        e.dlTick = UNSCHEDULED;
        e.onDeadline();
      }
    } finally {
      due.length = 0;
      this.armNext();
    }
  }

  /** Arms the native timer for the first occupied slot after `doneTick` (none when empty). */
  private armNext(): void {
    if (this.count === 0) return;
    const start = this.doneTick + 1;
    const end = start + this.mask;
    let t = start;
    while (t < end && this.slots[t & this.mask] === null) t++;
    // The slot found may hold only later rounds; firing there is harmless.
    if (t !== this.armedTick) this.arm(t);
  }
}

/** The worker's wheel for upstream call deadlines (10 ms precision, ~10 s span). */
export const upstreamDeadlines = new DeadlineWheel(10, 1024);
