/** `params`: hundreds of routes, lookups that hit params and wildcards all over the table. */
import { paramsLookups } from './params-table.js';
import { verifyTinyJson, type Scenario } from './types.js';

/** GETs cycling through ~170 paths on a ~300-route table. */
export const params: Scenario = {
  name: 'params',
  description: '~300 routes; GETs cycling over static, param and wildcard matches',
  configFile: 'params.yaml',
  upstreamDelayMs: 0,
  connections: 64,
  rates: [1000, 5000],
  requests: function paramsRequests() {
    return paramsLookups().map((path) => ({ method: 'GET' as const, path }));
  },
  verify: verifyTinyJson,
};
