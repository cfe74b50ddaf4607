import type { Target } from '../target.js';

/**
 * Chooses one target per request. Implementations keep any state they need
 * (precomputed at construction) and must not allocate in `pick`: it runs per
 * request.
 */
export interface Balancer {
  /**
   * Pick an available target.
   * @param targets the group's targets, always the same array (indexed by `Target.index`)
   * @param hashKey request key for key-based balancers ('' when none); others ignore it
   * @param now current time in ms, passed to `Target.isAvailable`
   * @param panic panic mode: every target is a candidate, health ignored (see UpstreamGroup)
   * @returns the chosen target, or null when no target is available
   */
  pick(targets: readonly Target[], hashKey: string, now: number, panic: boolean): Target | null;
}

/** Builds a balancer for a fixed target list (called once per group). */
export type BalancerFactory = (targets: readonly Target[]) => Balancer;
