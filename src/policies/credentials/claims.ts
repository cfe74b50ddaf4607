/**
 * Claims of a verified credential (a JWT, an introspection answer) turned
 * into what goes upstream, shared by the identity policies. Everything that
 * can end up in a header is made header-safe here: a value with a control
 * character (CR, LF, NUL, other C0 but HTAB, DEL) is not used, non-ASCII
 * text is written as percent-encoded UTF-8 (as the headers kind does), so
 * nothing a token carries can split a header line or break undici's header
 * check.
 */
import { hasControlChar, safeFieldValue } from '../headers/field-value.js';

/** Most groups taken from a groups claim. */
const MAX_GROUPS = 256;

/**
 * A claim as a header value: strings, finite numbers and booleans; null for
 * anything else (objects, lists, absent, empty) and for text with a control
 * character.
 */
export function claimHeaderValue(v: unknown): string | null {
  if (typeof v === 'string') return v === '' || hasControlChar(v) ? null : safeFieldValue(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return null;
}

/** A groups claim: a list of strings, or one string of names separated by spaces and/or commas. */
export function claimGroups(v: unknown): string[] {
  const raw: unknown[] = typeof v === 'string' ? v.split(/[\s,]+/) : Array.isArray(v) ? v : [];
  const out: string[] = [];
  for (let i = 0; i < raw.length && out.length < MAX_GROUPS; i++) {
    const g = raw[i];
    if (typeof g !== 'string' || g === '' || hasControlChar(g)) continue;
    // why: groups go upstream comma-joined (x-consumer-groups); a comma inside one would make two.
    out.push(safeFieldValue(g).replaceAll(',', '%2C'));
  }
  return out;
}

/** Freezes a claims tree (shared by every request the cached result serves). */
export function deepFreeze(v: unknown): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
}
