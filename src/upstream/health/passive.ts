import type { PassiveHealthConfig } from '../../config/types.js';
import type { Target } from '../target.js';

/** Longest ejection as a multiple of `ejectMs` (re-ejections double up to this). */
export const MAX_EJECT_MULTIPLIER = 8;

/**
 * Record one passive failure (connect error, timeout, or counted 5xx) and
 * eject the target when due.
 *
 * Rules:
 * - `consecutiveFailures` failures in a row eject the target for `ejectMs`.
 * - Once the ejection has expired the target is available again but on
 *   probation ("half-open"): the very next failure ejects it again at once,
 *   for twice the previous time, capped at 8 x `ejectMs`.
 * - Failures reported while the target is still ejected are ignored: they
 *   come from requests that started before the ejection and must neither
 *   extend it nor count towards the next one.
 * - `consecutiveFailures: 0` disables passive ejection entirely.
 * @returns the ejection time in ms when this failure ejected the target, else 0
 */
export function recordPassiveFailure(target: Target, config: PassiveHealthConfig, now: number): number {
  if (config.consecutiveFailures <= 0) return 0;
  if (now < target.ejectedUntil) return 0;
  target.consecutiveFailures++;
  if (target.ejections === 0 && target.consecutiveFailures < config.consecutiveFailures) return 0;
  const multiplier = Math.min(2 ** target.ejections, MAX_EJECT_MULTIPLIER);
  const ms = config.ejectMs * multiplier;
  target.ejections++;
  target.ejectedUntil = now + ms;
  return ms;
}

/**
 * Record one passive success: resets the failure counter and the ejection
 * back-off. A success that arrives while the target is ejected (from a
 * request started before the ejection) does not end the ejection early.
 */
export function recordPassiveSuccess(target: Target): void {
  target.consecutiveFailures = 0;
  target.ejections = 0;
}
