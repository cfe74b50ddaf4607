import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineWheel, type DeadlineEntry } from './deadline-wheel.js';

class Probe implements DeadlineEntry {
  dlNext: DeadlineEntry | null = null;
  dlPrev: DeadlineEntry | null = null;
  dlTick = -1;
  fired = 0;
  firedAt = -1;
  hook: (() => void) | null = null;
  onDeadline(): void {
    this.fired++;
    this.firedAt = performance.now();
    if (this.hook !== null) this.hook();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

describe('DeadlineWheel (real timers)', () => {
  test('fires every entry once, never early, within a tick of its time, across wheel rounds', async () => {
    // 16 slots of 5 ms: an 80 ms span, so deadlines up to 300 ms wrap 3 times.
    const wheel = new DeadlineWheel(5, 16);
    const t0 = performance.now();
    const offsets = [1, 7, 12, 33, 79, 80, 81, 95, 160, 161, 240, 299, 300];
    // Native timers at the same offsets measure how late this (shared, noisy)
    // machine's event loop runs: the wheel must be no later than one tick
    // after them, whatever the load.
    const nativeLate: number[] = offsets.map(() => 0);
    offsets.forEach((ms, i) => setTimeout(() => { nativeLate[i] = performance.now() - (t0 + ms); }, ms));
    const probes = offsets.map((ms) => {
      const p = new Probe();
      wheel.schedule(p, t0 + ms);
      return p;
    });
    assert.equal(wheel.size, offsets.length);
    await sleep(360);
    while (wheel.size > 0) await sleep(20); // a stalled loop may still owe the last tick
    const late: number[] = [];
    probes.forEach((p, i) => {
      assert.equal(p.fired, 1, `entry at ${offsets[i]} ms fired once`);
      const lateness = p.firedAt - (t0 + offsets[i]);
      late.push(lateness);
      assert.ok(lateness >= 0, `entry at ${offsets[i]} ms fired ${-lateness} ms early`);
      // One 5 ms tick past a native timer set for the same time, plus slack for
      // the wheel's own timer being queued behind it.
      const bound = Math.max(nativeLate[i], 0) + 5 + 25;
      assert.ok(lateness < bound, `entry at ${offsets[i]} ms fired ${lateness.toFixed(1)} ms late (a native timer: ${nativeLate[i].toFixed(1)} ms)`);
    });
  });

  test('cancel prevents firing; cancelling twice or an unscheduled entry is harmless', async () => {
    const wheel = new DeadlineWheel(5, 16);
    const a = new Probe(); const b = new Probe(); const c = new Probe();
    const now = performance.now();
    wheel.schedule(a, now + 20);
    wheel.schedule(b, now + 20);
    wheel.schedule(c, now + 20);
    wheel.cancel(b);
    wheel.cancel(b);
    wheel.cancel(new Probe());
    assert.equal(wheel.size, 2);
    await sleep(60);
    assert.deepEqual([a.fired, b.fired, c.fired], [1, 0, 1]);
    assert.equal(b.dlTick, -1);
    assert.equal(wheel.size, 0);
  });

  test('rescheduling moves an entry later or earlier; it fires once, at the new time', async () => {
    const wheel = new DeadlineWheel(5, 16);
    const later = new Probe(); const earlier = new Probe();
    const t0 = performance.now();
    wheel.schedule(later, t0 + 20);
    wheel.schedule(later, t0 + 120);
    wheel.schedule(earlier, t0 + 200);
    wheel.schedule(earlier, t0 + 40);
    assert.equal(wheel.size, 2);
    await sleep(80);
    assert.equal(later.fired, 0, 'moved later: not fired at its old time');
    assert.equal(earlier.fired, 1);
    assert.ok(earlier.firedAt >= t0 + 40);
    await sleep(90);
    assert.equal(later.fired, 1);
    assert.ok(later.firedAt >= t0 + 120);
  });

  test('a callback may cancel an entry due in the same pass, or schedule new ones', async () => {
    const wheel = new DeadlineWheel(5, 16);
    const a = new Probe(); const b = new Probe(); const followUp = new Probe();
    const t0 = performance.now();
    wheel.schedule(a, t0 + 10);
    wheel.schedule(b, t0 + 10);
    // Whichever runs first cancels the other and schedules a follow-up.
    a.hook = () => { wheel.cancel(b); wheel.schedule(followUp, performance.now() + 20); };
    b.hook = () => { wheel.cancel(a); wheel.schedule(followUp, performance.now() + 20); };
    await sleep(80);
    assert.equal(a.fired + b.fired, 1);
    assert.equal(followUp.fired, 1);
    assert.equal(wheel.size, 0);
  });

  test('a deadline already past fires on the next tick; an idle wheel keeps working', async () => {
    const wheel = new DeadlineWheel(5, 16);
    const past = new Probe();
    wheel.schedule(past, performance.now() - 1000);
    await sleep(30);
    assert.equal(past.fired, 1);
    // Idle for more than a full span, then used again.
    await sleep(100);
    const again = new Probe();
    const t0 = performance.now();
    wheel.schedule(again, t0 + 15);
    await sleep(60);
    assert.equal(again.fired, 1);
    assert.ok(again.firedAt >= t0 + 15);
  });

  test('rejects a slot count that is not a power of two', () => {
    assert.throws(() => new DeadlineWheel(10, 1000), /geometry/);
  });
});
