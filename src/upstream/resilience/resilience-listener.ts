import type { CircuitStateName } from './circuit-breaker.js';

/**
 * Where an upstream group reports its rare resilience events (logs): circuit
 * breaker transitions and entering or leaving panic mode. Implemented by the
 * worker's observer.
 */
export interface ResilienceListener {
  /** The circuit breaker of `upstream` moved from `from` to `to`. */
  circuitTransition(upstream: string, from: CircuitStateName, to: CircuitStateName, reason: string): void;
  /**
   * `upstream` entered (`panic` true) or left panic mode, with `available`
   * of its `total` targets available.
   */
  panic(upstream: string, panic: boolean, available: number, total: number): void;
}
