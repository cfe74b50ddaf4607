/**
 * A bound on concurrent introspection calls (per policy and worker), so a
 * flood of distinct unknown tokens cannot become an unbounded number of
 * calls to the authorization server: `max` run at once, up to `maxQueued`
 * wait in order for a free slot, and the rest are refused at once. A
 * waiter that got its slot only after `maxWaitMs` is refused too (its
 * client has waited long enough); no timer per waiter.
 */
export class CallSlots {
  private running = 0;
  private readonly queue: Array<{ since: number; grant: (ok: boolean) => void }> = [];
  /** Calls refused for want of a slot, since start. */
  refused = 0;

  constructor(private readonly max: number, private readonly maxQueued: number, private readonly maxWaitMs: number,
    private readonly now: () => number = Date.now) {}

  /**
   * Takes a slot: true at once when one is free, a Promise of whether one
   * was granted when the call has to wait, false when the queue is full.
   * Every true (resolved or returned) must be matched by one {@link release}.
   */
  acquire(): boolean | Promise<boolean> {
    if (this.running < this.max) { this.running++; return true; }
    if (this.queue.length >= this.maxQueued) { this.refused++; return false; }
    return new Promise<boolean>((grant) => { this.queue.push({ since: this.now(), grant }); });
  }

  /** Gives a slot back: to the oldest waiter that has not waited too long, else free. */
  release(): void {
    const now = this.now();
    for (;;) {
      const next = this.queue.shift();
      if (next === undefined) { this.running--; return; }
      if (now - next.since <= this.maxWaitMs) { next.grant(true); return; }
      this.refused++;
      next.grant(false);
    }
  }

  /** Calls running and waiting (status, tests). */
  get load(): { running: number; queued: number } {
    return { running: this.running, queued: this.queue.length };
  }

  /** Refuses every waiter (close). */
  drain(): void {
    for (const w of this.queue.splice(0)) w.grant(false);
  }
}
