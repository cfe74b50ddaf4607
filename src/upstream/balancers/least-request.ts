import type { Target } from '../target.js';
import type { Balancer } from './types.js';

/**
 * Least-request by "power of two choices": draw two distinct available
 * targets at random and take the one with the lower load, where load is
 * `(inflight + 1) / weight`. Avoids the herd effect of always picking the
 * global minimum (every worker would pile onto the same target) while still
 * steering away from slow or overloaded targets. With two available targets
 * it always compares both, so it is exact there; with one it returns it.
 */
export class LeastRequestBalancer implements Balancer {
  /** {@inheritDoc Balancer.pick} */
  pick(targets: readonly Target[], _hashKey: string, now: number, panic: boolean): Target | null {
    let available = 0;
    let only: Target | null = null;
    for (let i = 0; i < targets.length; i++) {
      if (panic || targets[i].isAvailable(now)) {
        available++;
        only = targets[i];
      }
    }
    if (available <= 1) return only;

    // why: choose the a-th and b-th *available* target by counting in one pass
    // instead of collecting the available ones into an array per request.
    const a = (Math.random() * available) | 0;
    let b = (Math.random() * (available - 1)) | 0;
    if (b >= a) b++;
    let ta: Target | null = null;
    let tb: Target | null = null;
    let seen = 0;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i];
      if (!panic && !t.isAvailable(now)) continue;
      if (seen === a) ta = t;
      else if (seen === b) tb = t;
      seen++;
    }
    if (ta === null || tb === null) return ta ?? tb; // unreachable unless availability changed mid-pick
    // why: cross-multiplied comparison of (inflight+1)/weight avoids two divisions.
    // Ties go to `ta`, which is itself random, so ties split evenly.
    return (ta.inflight + 1) * tb.weight <= (tb.inflight + 1) * ta.weight ? ta : tb;
  }
}

/** Factory registered under `least-request`. */
export function createLeastRequestBalancer(_targets: readonly Target[]): Balancer {
  return new LeastRequestBalancer();
}
