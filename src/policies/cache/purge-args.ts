/**
 * The arguments of a cache purge (`DELETE /cache` on the admin listener,
 * command `cache-purge` on every worker): exactly one of `key-prefix` (the
 * primary key, whose parts are joined by single spaces in the configured
 * order) and `path-prefix` (the request path), non-empty; optionally
 * `policy` (one cache policy's name; default every cache policy).
 */
import type { PurgeMatch } from './store.js';

/** Parsed purge arguments. */
export interface PurgeArgs {
  readonly match: PurgeMatch;
  /** Only this policy (null: every cache policy). */
  readonly policy: string | null;
}

const KNOWN = new Set(['key-prefix', 'path-prefix', 'policy']);

/** Parses the query of a purge; a string is what is wrong with it. */
export function parsePurgeArgs(query: Readonly<Record<string, string>>): PurgeArgs | string {
  for (const name of Object.keys(query)) {
    if (!KNOWN.has(name)) return `unknown parameter "${name}" (use key-prefix or path-prefix, and optionally policy)`;
  }
  const key = query['key-prefix'];
  const path = query['path-prefix'];
  if (key !== undefined && path !== undefined) return 'give exactly one of key-prefix and path-prefix, not both';
  if (key === undefined && path === undefined) return 'give exactly one of key-prefix and path-prefix';
  const value = key ?? path ?? '';
  if (value === '') return `${key !== undefined ? 'key-prefix' : 'path-prefix'} must not be empty`;
  const policy = query.policy;
  if (policy !== undefined && policy === '') return 'policy must not be empty';
  return { match: key !== undefined ? { keyPrefix: key } : { pathPrefix: value }, policy: policy ?? null };
}
