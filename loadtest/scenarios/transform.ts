/**
 * `transform`: a 4 KiB JSON document projected to 5 fields by a transform
 * policy (JSON.parse, a walk along the precompiled allow trie,
 * JSON.stringify): what reshaping a body costs per request, next to
 * `passthrough` (the same route without the policy, a 60 B body).
 */
import type { Scenario, ScenarioRequest } from './types.js';

/** Size of the upstream's document. */
export const DOC_BYTES = 4 * 1024;

/** The 4 KiB JSON the upstream serves under /doc4k/ (a user with history, exactly DOC_BYTES long). */
export function doc4kJson(): string {
  const doc: Record<string, unknown> = {
    id: 4711, name: 'Ann Example', email: 'ann@example.com', status: 'active', createdAt: '2026-01-02T03:04:05Z',
    address: { street: 'Main Street 1', city: 'Oslo', zip: '0150', country: 'NO' },
    tags: ['gold', 'beta', 'newsletter'],
    history: [] as unknown[],
    pad: '',
  };
  const history = doc.history as unknown[];
  for (let i = 0; JSON.stringify(doc).length < DOC_BYTES - 120; i++) {
    history.push({ at: `2026-02-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`, event: i % 2 === 0 ? 'login' : 'purchase', amount: i * 3 });
  }
  doc.pad = 'x'.repeat(DOC_BYTES - JSON.stringify(doc).length);
  return JSON.stringify(doc);
}

/** What the gateway answers: the projection to id, name, email, status and address.city. */
export function projectedJson(): string {
  const d = JSON.parse(doc4kJson()) as { id: number; name: string; email: string; status: string; address: { city: string } };
  return JSON.stringify({ id: d.id, name: d.name, email: d.email, status: d.status, address: { city: d.address.city } });
}

let expected: Buffer | undefined;

/** GET /api/doc4k/1 → the 4 KiB document projected to 5 fields. */
export const transform: Scenario = {
  name: 'transform',
  description: 'GET of a 4 KiB JSON document projected to 5 fields by a transform policy',
  configFile: 'transform.yaml',
  upstreamDelayMs: 0,
  connections: 64,
  rates: [1000, 5000],
  requests: function transformRequests(): ScenarioRequest[] {
    return [{ method: 'GET', path: '/api/doc4k/1' }];
  },
  verify: function verifyProjected(_req: ScenarioRequest, status: number, body: Buffer): string | null {
    if (status !== 200) return `status ${status}, expected 200`;
    expected ??= Buffer.from(projectedJson());
    return body.equals(expected) ? null : `body ${JSON.stringify(body.toString('utf8').slice(0, 120))} is not the 5-field projection`;
  },
};
