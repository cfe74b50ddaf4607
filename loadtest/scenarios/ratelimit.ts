/** `ratelimit`: `passthrough` with a Redis-shared per-IP limit that never denies: the limiter's cost per request. */
import { passthrough } from './passthrough.js';
import type { Scenario } from './types.js';

/** The passthrough load through a route with a (never reached) rate limit: compare it with passthrough. */
export const ratelimit: Scenario = {
  ...passthrough,
  name: 'ratelimit',
  description: 'passthrough + a per-IP token bucket shared through Redis (never reached)',
  configFile: 'ratelimit.yaml',
};
