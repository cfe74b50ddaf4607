/** The scenario registry: one line per scenario. */
import { accessLog } from './access-log.js';
import { aggregate } from './aggregate.js';
import { auth } from './auth.js';
import { cacheHit } from './cache-hit.js';
import { jwt } from './jwt.js';
import { largeBody } from './large-body.js';
import { params } from './params.js';
import { passthrough } from './passthrough.js';
import { ratelimit } from './ratelimit.js';
import { policies } from './policies.js';
import { slowUpstream } from './slow-upstream.js';
import { tls, tlsMtls } from './tls.js';
import { TRANSCODE_SCENARIOS } from './transcode.js';
import { transform } from './transform.js';
import { tracing100pct, tracing1pct } from './tracing.js';
import type { Scenario } from './types.js';
import { post2k, validate } from './validate.js';

/** Every scenario, in the order reports list them. */
export const SCENARIOS: readonly Scenario[] = [passthrough, tls, tlsMtls, params, largeBody, slowUpstream, ratelimit, policies, jwt, auth, ...TRANSCODE_SCENARIOS, cacheHit, post2k, validate, transform, aggregate, tracing1pct, tracing100pct, accessLog];

/** The scenario called `name`, or an error listing the known names. */
export function scenarioByName(name: string): Scenario {
  const s = SCENARIOS.find((x) => x.name === name);
  if (s === undefined) throw new Error(`unknown scenario "${name}"; known: ${SCENARIOS.map((x) => x.name).join(', ')}`);
  return s;
}
