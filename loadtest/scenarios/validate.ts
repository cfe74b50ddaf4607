/**
 * `validate` and `post-2k`: the same 2 KiB JSON order POSTed (and echoed by
 * the upstream) through a route with a `validate` policy (body, query and
 * headers against JSON Schema 2020-12) and through a plain route: the
 * difference is the cost of validation per request.
 */
import type { Scenario, ScenarioRequest } from './types.js';

/** A deterministic order of about 2 KiB that passes the route's schema. */
export function orderBody(): Buffer {
  const items: Array<Record<string, unknown>> = [];
  const order = { customer: 'ann@example.com', currency: 'EUR', shipTo: [52.52, 13.405], items };
  for (let i = 0; Buffer.byteLength(JSON.stringify(order)) < 2048 - 80; i++) {
    items.push({ sku: `SKU-${1000 + i}`, qty: 1 + (i % 5), price: 9.99 + i, note: 'gift wrap' });
  }
  const body = Buffer.from(JSON.stringify(order));
  return Buffer.concat([body.subarray(0, body.length - 1), Buffer.from(',"ref":"' + 'r'.repeat(2048 - body.length - 9) + '"}')]);
}

let body: Buffer | undefined;

function postTo(path: string): ScenarioRequest[] {
  body ??= orderBody();
  return [{ method: 'POST', path, headers: { 'content-type': 'application/json', 'x-request-source': 'loadtest' }, body }];
}

function verifyEcho(req: ScenarioRequest, status: number, got: Buffer): string | null {
  if (status !== 200) return `status ${status}, expected 200: ${got.toString('utf8', 0, 200)}`;
  if (req.body === undefined || !got.equals(req.body)) return `echo of ${got.length} bytes differs from the ${req.body?.length ?? 0} bytes sent`;
  return null;
}

/** The 2 KiB POST through a plain route (the baseline of `validate`). */
export const post2k: Scenario = {
  name: 'post-2k',
  description: '2 KiB JSON POST echoed by the upstream, no policy (baseline of validate)',
  configFile: 'validate.yaml',
  upstreamDelayMs: 0,
  connections: 32,
  rates: [2000],
  requests: function plainRequests(): ScenarioRequest[] { return postTo('/plain/orders?limit=10'); },
  verify: verifyEcho,
};

/** The same POST through a validate policy (body schema, query schema, required header). */
export const validate: Scenario = {
  ...post2k,
  name: 'validate',
  description: '2 KiB JSON POST validated (body JSON Schema 2020-12, query, required header), echoed by the upstream',
  requests: function validatedRequests(): ScenarioRequest[] { return postTo('/orders?limit=10'); },
};
