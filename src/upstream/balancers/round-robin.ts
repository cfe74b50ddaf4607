import type { Target } from '../target.js';
import type { Balancer } from './types.js';

/**
 * Smooth weighted round-robin, as in nginx: each pick adds every available
 * target's weight to its running score, takes the highest score and subtracts
 * the total from it. Weights 3:1 give A A B A (interleaved, never bursts) and
 * exactly 3:1 over any multiple of 4 picks. Unavailable targets are skipped
 * and their score is frozen until they come back.
 */
export class RoundRobinBalancer implements Balancer {
  // why: scores live in one typed array indexed by Target.index, so pick() allocates nothing.
  private readonly scores: Float64Array;

  /** @param targets the group's targets */
  constructor(targets: readonly Target[]) {
    this.scores = new Float64Array(targets.length);
  }

  /** {@inheritDoc Balancer.pick} */
  pick(targets: readonly Target[], _hashKey: string, now: number, panic: boolean): Target | null {
    const scores = this.scores;
    let best = -1;
    let total = 0;
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i];
      if (!panic && !t.isAvailable(now)) continue;
      scores[i] += t.weight;
      total += t.weight;
      if (best < 0 || scores[i] > scores[best]) best = i;
    }
    if (best < 0) return null;
    scores[best] -= total;
    return targets[best];
  }
}

/** Factory registered under `round-robin`. */
export function createRoundRobinBalancer(targets: readonly Target[]): Balancer {
  return new RoundRobinBalancer(targets);
}
