// The worked example config/examples/bff.yaml ("A backend for each client
// type" in the README): the shipped file, run as `turnpike start --demo`
// (ports moved for the test), gives each client type its own view of the
// bundled demo services.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { freePort, freePortRange, startGateway } from './fixtures/gateway-process.js';

type Json = Record<string, unknown>;

/** The shipped example (this file runs from dist/test/e2e-process/). */
const EXAMPLE = fileURLToPath(new URL('../../../config/examples/bff.yaml', import.meta.url));

/** GET `path` with an optional `x-client`; status, content type, partial marker and the JSON body. */
async function get(port: number, path: string, client?: string): Promise<{ status: number; type: string; partial: string | null; json: Json }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { headers: client === undefined ? {} : { 'x-client': client } });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', partial: res.headers.get('x-partial'), json: JSON.parse(text) as Json };
}

describe('config/examples/bff.yaml with the demo services', () => {
  let port = 0;
  let cleanup: () => unknown = () => undefined;

  before(async () => {
    const shipped = readFileSync(EXAMPLE, 'utf8');
    port = await freePort();
    const admin = await freePort();
    const text = shipped
      .replace('server: { host: 0.0.0.0, port: 8080, workers: auto }', `server: { host: 127.0.0.1, port: ${port}, workers: 1, gracePeriod: 1s }`)
      .replace('admin: { port: 9901 }', `admin: { host: 127.0.0.1, port: ${admin} }`);
    assert.notEqual(text, shipped, 'the example still has the server and admin lines the test moves');
    const base = await freePortRange(4);
    const gw = await startGateway(text, { args: ['--demo'], env: { TURNPIKE_DEMO_PORT_BASE: String(base) } });
    cleanup = () => gw.cleanup();
  });
  after(async () => { await cleanup(); });

  test('mobile: one round trip composes three services, trimmed to what the app shows', async () => {
    const r = await get(port, '/api/dashboard/42', 'mobile');
    assert.equal(r.status, 200);
    assert.equal(r.type, 'application/json');
    assert.equal(r.partial, null);
    assert.deepEqual(Object.keys(r.json).sort(), ['balance', 'recentOrders', 'user', 'view']);
    assert.deepEqual(r.json.user, { id: '42', name: 'Grace Hopper', address: { city: 'Arlington' } });
    const orders = r.json.recentOrders as Json[];
    assert.ok(orders.length > 0);
    for (const o of orders) assert.deepEqual(Object.keys(o).sort(), ['id', 'status', 'total']);
    // balance comes from a call that needed the user's accountId first
    assert.deepEqual(r.json.balance, { value: (4242 * 37) % 10000, currency: 'EUR' });
    assert.equal(r.json.view, 'mobile');
  });

  test('web (any other client): the same calls, full objects', async () => {
    const r = await get(port, '/api/dashboard/42');
    assert.equal(r.status, 200);
    const user = r.json.user as Json;
    assert.equal(user.email, 'grace@example.com');
    assert.deepEqual(user.preferences, { language: 'en', newsletter: true });
    const orders = r.json.orders as { items: Json[] };
    assert.ok(Array.isArray(orders.items[0].lines));
    assert.equal((r.json.balance as Json).account, 'acc-4242');
    assert.equal(r.json.view, undefined);
  });

  test('one resource, three views: mobile projection, partner contract, web as the service sends it', async () => {
    const mobile = await get(port, '/api/users/1', 'mobile');
    assert.deepEqual(mobile.json, { id: '1', name: 'Ada Lovelace', address: { city: 'London' }, view: 'mobile' });
    const partner = await get(port, '/api/users/1', 'partner');
    assert.deepEqual(partner.json, { id: '1', name: 'Ada Lovelace', email: 'ada@example.com', account: 'acc-1001', apiVersion: 2 });
    const web = await get(port, '/api/users/1');
    assert.equal(web.json.accountId, 'acc-1001');
    assert.equal((web.json.address as Json).street, '12 St James Square');
  });

  test('an unknown user: the required call\'s 404 is the client\'s 404 in every view', async () => {
    for (const client of ['mobile', undefined]) {
      const r = await get(port, '/api/dashboard/999', client);
      assert.equal(r.status, 404);
      assert.match(r.type, /^application\/problem\+json/);
      assert.equal(r.json.code, 'aggregate_not_found');
    }
  });
});
