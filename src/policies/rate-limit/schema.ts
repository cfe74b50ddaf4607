/**
 * The rate-limit kind's config: the shape of a `rateLimits` entry without
 * its `name` (a policy's name is its key under `policies`), and the checks
 * the schema cannot express, shared with the `rateLimits` shorthand.
 */
import base from '../../config/gateway.schema.json' with { type: 'json' };
import type { ConfigPath } from '../../config/issues.js';
import { tryParseDuration } from '../../config/units.js';
import type { IssueSink } from '../types.js';

type Obj = Record<string, unknown>;

/** JSON Schema of `{ rate-limit: <this> }`: a rateLimits entry minus `name`. */
export const rateLimitSchema: Readonly<Obj> = (() => {
  const item = structuredClone(base.properties.rateLimits.items) as { properties: Obj; required: string[]; description?: string };
  delete item.properties.name;
  item.required = item.required.filter((r) => r !== 'name');
  item.description = 'A rate limit or quota (same fields as a rateLimits entry; the policy name is its name).';
  return item;
})();

/** Quota needs a period and no window/burst; the others no period; windows are positive. */
export function checkRateLimit(l: unknown, at: ConfigPath, issue: IssueSink): void {
  if (typeof l !== 'object' || l === null) return;
  const o = l as Obj;
  const quota = o.algorithm === 'quota';
  if (quota && o.period === undefined) issue([...at, 'period'], 'is required for algorithm quota (day or month)');
  if (quota && o.window !== undefined) issue([...at, 'window'], 'does not apply to algorithm quota (it counts per calendar period)');
  if (!quota && o.period !== undefined) issue([...at, 'period'], 'only applies to algorithm quota');
  if (o.burst !== undefined && o.algorithm !== undefined && o.algorithm !== 'token-bucket') issue([...at, 'burst'], 'only applies to algorithm token-bucket');
  if (o.window !== undefined && tryParseDuration(o.window) === 0) issue([...at, 'window'], 'must be more than 0');
}
