/** `aggregate`: one request fans out to 3 parallel upstream calls, each upstream adding 5 ms; the answer merges them. */
import { UPSTREAM_JSON, type Scenario, type ScenarioRequest } from './types.js';

/** What the gateway answers: the three upstream bodies keyed by call name (the upstream JSON is compact, so re-serialising keeps it byte for byte). */
const EXPECTED = `{"a":${UPSTREAM_JSON},"b":${UPSTREAM_JSON},"c":${UPSTREAM_JSON}}`;

/** GET /dashboard/:id → 3 calls in parallel (users, orders, payments: one upstream process, 5 ms each). */
export const aggregate: Scenario = {
  name: 'aggregate',
  description: 'aggregate of 3 parallel calls, each upstream adding 5 ms; merged JSON answer',
  configFile: 'aggregate.yaml',
  upstreamDelayMs: 5,
  connections: 64,
  // why: 500 req/s × ~6 ms = 3 requests in flight; 64 leaves room for stalls.
  openConnections: 64,
  rates: [500],
  requests: function aggregateRequests() {
    return [{ method: 'GET', path: '/dashboard/42' }];
  },
  verify: function verifyAggregate(_req: ScenarioRequest, status: number, body: Buffer): string | null {
    if (status !== 200) return `status ${status}, expected 200`;
    const text = body.toString('utf8');
    return text === EXPECTED ? null : `body ${JSON.stringify(text.slice(0, 120))} is not the merged JSON`;
  },
};
