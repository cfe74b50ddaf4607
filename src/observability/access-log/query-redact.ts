import { decodeQueryName } from '../../ingress/request-context.js';

/** What a redacted value becomes. */
export const REDACTED = '[REDACTED]';

/**
 * The raw query string with the value of every parameter whose decoded name
 * (case-insensitive) is in `names` replaced by `[REDACTED]`; everything else
 * stays byte for byte. A parameter without `=` has no value to hide.
 *
 * @param query the raw query without `?`.
 * @param names lower-case parameter names.
 */
export function redactQuery(query: string, names: ReadonlySet<string>): string {
  if (query === '' || names.size === 0) return query;
  let out = '';
  let start = 0;
  let changed = false;
  // why: a plain scan over `&` instead of split/URLSearchParams: most queries
  // hold no sensitive name and come back unchanged without a copy.
  while (start <= query.length) {
    let end = query.indexOf('&', start);
    if (end < 0) end = query.length;
    const eq = query.indexOf('=', start);
    let part = query.slice(start, end);
    if (eq >= 0 && eq < end) {
      const name = query.slice(start, eq);
      if (names.has(decodeQueryName(name).toLowerCase())) {
        part = name + '=' + REDACTED;
        changed = true;
      }
    }
    out = start === 0 ? part : out + '&' + part;
    start = end + 1;
  }
  return changed ? out : query;
}
