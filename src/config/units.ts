/**
 * Parsers for the human units used in the config file and environment:
 * durations (`250ms`, `5s`, `1.5m`, `1h`, or integer milliseconds) and sizes
 * (`512b`, `16kb`, `10mb`, `1gb`, or integer bytes; binary multiples, so
 * `1kb` is 1024 bytes). These run at config time only.
 */

/** What a duration string must look like (same rule as the JSON Schema's `duration`). */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/** What a size string must look like, case-insensitive (same rule as the JSON Schema's `size`). */
export const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmg]?b)$/i;

/** Message used whenever a duration is malformed. */
export const DURATION_HINT = 'must be a duration like 250ms, 5s, 1m, 1h or integer milliseconds';

/** What a percentage string must look like (same rule as the JSON Schema's `percent`). */
export const PERCENT_PATTERN = /^(\d+(?:\.\d+)?)%$/;

/** Message used whenever a percentage is malformed. */
export const PERCENT_HINT = 'must be a percentage like 50% (0% to 100%)';

/** Message used whenever a size is malformed. */
export const SIZE_HINT = 'must be a size like 512kb, 10mb, 1gb or integer bytes';

const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const SIZE_BYTES: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

/**
 * Parses a duration into whole milliseconds (rounded to the nearest ms).
 *
 * @param value `"250ms"`, `"5s"`, `"1.5m"`, `"1h"`, or a non-negative integer of
 *   milliseconds (as a number or a digit-only string, e.g. from an env var).
 * @returns the duration in milliseconds.
 * @throws RangeError with {@link DURATION_HINT} when the value is not a duration.
 */
export function parseDuration(value: string | number): number {
  const ms = tryParseDuration(value);
  if (ms === null) throw new RangeError(`${DURATION_HINT}, got ${JSON.stringify(value)}`);
  return ms;
}

/**
 * Like {@link parseDuration} but returns `null` instead of throwing.
 *
 * @param value the candidate duration.
 * @returns milliseconds, or null when the value is not a valid duration.
 */
export function tryParseDuration(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return toSafe(Number(text));
  const m = DURATION_PATTERN.exec(text);
  if (m === null) return null;
  return toSafe(Math.round(Number(m[1]) * DURATION_MS[m[2]]));
}

/**
 * Parses a size into whole bytes (fractions are rounded down).
 *
 * @param value `"512b"`, `"16kb"`, `"10mb"`, `"1gb"` (case-insensitive), or a
 *   non-negative integer of bytes (as a number or a digit-only string).
 * @returns the size in bytes.
 * @throws RangeError with {@link SIZE_HINT} when the value is not a size.
 */
export function parseSize(value: string | number): number {
  const bytes = tryParseSize(value);
  if (bytes === null) throw new RangeError(`${SIZE_HINT}, got ${JSON.stringify(value)}`);
  return bytes;
}

/**
 * Like {@link parseSize} but returns `null` instead of throwing.
 *
 * @param value the candidate size.
 * @returns bytes, or null when the value is not a valid size.
 */
export function tryParseSize(value: unknown): number | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return toSafe(Number(text));
  const m = SIZE_PATTERN.exec(text);
  if (m === null) return null;
  return toSafe(Math.floor(Number(m[1]) * SIZE_BYTES[m[2].toLowerCase()]));
}

/**
 * Parses a percentage: `"50%"`, `"12.5%"`, or a plain number of percent
 * (`50`), between 0 and 100.
 *
 * @param value the candidate percentage.
 * @returns the percentage as a number 0..100, or null when malformed or out of range.
 */
export function tryParsePercent(value: unknown): number | null {
  let n: number;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string') {
    const m = PERCENT_PATTERN.exec(value.trim());
    if (m === null) return null;
    n = Number(m[1]);
  } else return null;
  return Number.isFinite(n) && n >= 0 && n <= 100 ? n : null;
}

function toSafe(n: number): number | null {
  return Number.isSafeInteger(n) ? n : null;
}
