/** `passthrough`: one route, a tiny JSON response: the gateway's floor cost per request. */
import { verifyTinyJson, type Scenario } from './types.js';

/** One catch-all route, GET /api/hello → 60 B JSON. */
export const passthrough: Scenario = {
  name: 'passthrough',
  description: 'one route, GET returning 60 B of JSON',
  configFile: 'passthrough.yaml',
  upstreamDelayMs: 0,
  connections: 64,
  rates: [1000, 5000],
  requests: function passthroughRequests() {
    return [{ method: 'GET', path: '/api/hello' }];
  },
  verify: verifyTinyJson,
};
