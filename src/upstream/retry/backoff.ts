/**
 * Jittered exponential backoff between tries, as Envoy computes it: the nth
 * retry (n ≥ 1) waits a uniformly random time in
 * `[0, min((2^n − 1) × base, max))`. Full jitter spreads the retries of many
 * requests that failed together, so they do not hit the upstream in step.
 *
 * @param baseMs base interval (0: no wait)
 * @param maxMs longest wait
 * @param retry which retry this is, 1-based
 * @param random a number in [0, 1)
 * @returns the wait in whole ms
 */
export function backoffDelay(baseMs: number, maxMs: number, retry: number, random: number): number {
  if (baseMs <= 0 || maxMs <= 0) return 0;
  // why: 2^n is capped at 2^30 so the product stays a safe integer; max caps far earlier.
  const span = Math.min(maxMs, (2 ** Math.min(retry, 30) - 1) * baseMs);
  return Math.floor(random * span);
}

/** Where the jitter comes from; tests of the whole gateway pin it (see setRetryRandom). */
let randomSource: () => number = Math.random;

/** A number in [0, 1) for the next backoff's jitter. */
export function retryRandom(): number {
  return randomSource();
}

/**
 * Replaces the jitter source (a test seam: end-to-end tests pin the wait to
 * its longest to abort a request during it); `null` restores Math.random.
 */
export function setRetryRandom(source: (() => number) | null): void {
  randomSource = source ?? Math.random;
}
