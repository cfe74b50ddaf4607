/**
 * `policies`: `passthrough` through a route with ip-restriction, cors, a
 * Redis-shared rate limit (never reached) and headers edits on both sides:
 * the cost of a typical policy chain per request, next to `passthrough`.
 */
import { passthrough } from './passthrough.js';
import type { Scenario } from './types.js';

/** The passthrough load with a browser Origin, through a four-policy chain. */
export const policies: Scenario = {
  ...passthrough,
  name: 'policies',
  description: 'passthrough + ip-restriction, cors (actual request), rate-limit via Redis (never reached), headers on request and response',
  configFile: 'policies.yaml',
  requests: function policiesRequests() {
    return [{ method: 'GET', path: '/api/hello', headers: { origin: 'https://app.example.com' } }];
  },
};
