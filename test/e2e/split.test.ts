import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent, request } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from './helpers.js';

describe('canary split through the gateway (real upstreams)', () => {
  let v1: TestUpstream; let v2: TestUpstream; let gw: TestGateway;
  const agent = new Agent({ connections: 8 });

  before(async () => {
    [v1, v2] = await Promise.all([startUpstream('v1'), startUpstream('v2')]);
    gw = await startGateway(`
upstreams:
  v1: { targets: [ { url: "${v1.url}" } ] }
  v2: { targets: [ { url: "${v2.url}" } ] }
routes:
  - name: random-split
    match: { path: /random/* }
    split: [ { upstream: v1, weight: 90 }, { upstream: v2, weight: 10 } ]
  - name: sticky-split
    match: { path: /sticky/* }
    split: [ { upstream: v1, weight: 50 }, { upstream: v2, weight: 50 } ]
    sticky: header:x-user-id
`);
  });
  after(async () => { await agent.close(); await gw?.close(); await Promise.all([v1?.close(), v2?.close()]); });

  async function side(path: string, headers: Record<string, string> = {}): Promise<string> {
    const res = await request(gw.base + path, { headers, dispatcher: agent });
    return (await res.body.json() as { server: string }).server;
  }

  test('a 90/10 split sends about 10% to the canary (binomial 4.5 sigma bound)', async () => {
    const n = 2000;
    let canary = 0;
    for (let i = 0; i < n; i += 50) {
      const batch = await Promise.all(Array.from({ length: 50 }, () => side('/random/x')));
      canary += batch.filter((s) => s === 'v2').length;
    }
    // sd = sqrt(n p (1-p)) = sqrt(2000 * 0.1 * 0.9) ≈ 13.4; 4.5 sd ≈ 60.
    assert.ok(Math.abs(canary - 200) < 60, `canary got ${canary} of ${n}`);
  });

  test('a sticky split keeps each user on one side and still splits users', async () => {
    const sides = new Map<string, string>();
    for (let u = 0; u < 200; u++) sides.set(`user-${u}`, await side('/sticky/a', { 'x-user-id': `user-${u}` }));
    for (let round = 0; round < 3; round++) {
      for (let u = 0; u < 200; u += 7) {
        assert.equal(await side('/sticky/b', { 'x-user-id': `user-${u}` }), sides.get(`user-${u}`), `user-${u} moved`);
      }
    }
    const onV2 = [...sides.values()].filter((s) => s === 'v2').length;
    // 200 users at 50/50: sd ≈ 7; allow 4.5 sd.
    assert.ok(Math.abs(onV2 - 100) < 32, `${onV2} of 200 users on v2`);
  });
});
