import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { IntrospectionClient } from './introspection-client.js';
import { resolveSettings } from './settings.js';
import type { IntrospectionConfig } from './schema.js';
import { startIntrospectionServer, type IntrospectionServer } from './testing/introspection-server.js';
import { makeTestCa, type TestCa } from './testing/test-ca.js';

const ID = 'gate way';
const SECRET = 's3:cr&t+%';

function client(server: { url: string }, extra: Partial<IntrospectionConfig> = {}): IntrospectionClient {
  return new IntrospectionClient(resolveSettings({ url: server.url, clientId: ID, clientSecret: SECRET, ...extra }));
}

describe('IntrospectionClient against a real endpoint', () => {
  let idp: IntrospectionServer;
  let c: IntrospectionClient;

  before(async () => {
    idp = await startIntrospectionServer({ clientId: ID, clientSecret: SECRET });
    idp.tokens.set('good', { active: true, sub: 'u-1', scope: 'a b' });
    c = client(idp, { timeout: 400 });
  });
  after(async () => { await c.close(); await idp.close(); });

  test('POSTs the token as a form with Basic client auth and parses the answer', async () => {
    assert.deepEqual(await c.introspect('good'), { ok: true, body: { active: true, sub: 'u-1', scope: 'a b' } });
    assert.deepEqual(await c.introspect('unknown'), { ok: true, body: { active: false } });
    const call = idp.calls.at(-1)!;
    assert.deepEqual(call, { token: 'unknown', tokenTypeHint: 'access_token', contentType: 'application/x-www-form-urlencoded', auth: 'basic', authOk: true });
  });

  test('a token with form-special characters arrives intact', async () => {
    await c.introspect('a+b/c=d&e');
    assert.equal(idp.calls.at(-1)!.token, 'a+b/c=d&e');
  });

  test('clientAuth post sends the credentials in the body', async () => {
    const post = client(idp, { clientAuth: 'post' });
    try {
      assert.deepEqual(await post.introspect('good'), { ok: true, body: { active: true, sub: 'u-1', scope: 'a b' } });
      assert.equal(idp.calls.at(-1)!.auth, 'post');
      assert.equal(idp.calls.at(-1)!.authOk, true);
    } finally { await post.close(); }
  });

  test('wrong client credentials: a failure naming them, not an inactive token', async () => {
    const bad = client(idp, { clientSecret: 'wrong' });
    try {
      const r = await bad.introspect('good');
      assert.equal(r.ok, false);
      assert.ok(!r.ok && r.failure === 'http_status' && r.status === 401 && /clientId\/clientSecret/.test(r.detail));
    } finally { await bad.close(); }
  });

  test('5xx, malformed JSON, an oversized answer and a reset are failures', async () => {
    const cases = [['error500', 'http_status'], ['garbage', 'bad_response'], ['huge', 'bad_response'], ['reset', 'unreachable']] as const;
    for (const [mode, failure] of cases) {
      idp.mode = mode;
      const r = await c.introspect('good');
      assert.ok(!r.ok && r.failure === failure, `${mode}: ${JSON.stringify(r)}`);
    }
    idp.mode = 'ok';
    assert.equal((await c.introspect('good')).ok, true);
  });

  test('a hanging endpoint is bounded by the timeout', async () => {
    idp.mode = 'hang';
    try {
      const started = Date.now();
      const r = await c.introspect('good');
      assert.ok(!r.ok && r.failure === 'timeout', JSON.stringify(r));
      assert.ok(Date.now() - started < 5000, 'bounded (timeout 400 ms, generous bound)');
    } finally { idp.mode = 'ok'; }
  });

  test('an endpoint that is down is unreachable', async () => {
    await idp.stop();
    try {
      const r = await c.introspect('good');
      assert.ok(!r.ok && r.failure === 'unreachable', JSON.stringify(r));
    } finally { await idp.start(); }
    assert.equal((await c.introspect('good')).ok, true);
  });
});

describe('IntrospectionClient over https', () => {
  let ca: TestCa;
  let idp: IntrospectionServer;

  before(async () => {
    ca = makeTestCa();
    idp = await startIntrospectionServer({ clientId: ID, clientSecret: SECRET, tls: { key: ca.key, cert: ca.cert } });
    idp.tokens.set('good', { active: true, sub: 'u-1' });
  });
  after(async () => { await idp.close(); ca.remove(); });

  test('a certificate from the configured ca is trusted', async () => {
    const c = client(idp, { ca: ca.caFile });
    try {
      assert.deepEqual(await c.introspect('good'), { ok: true, body: { active: true, sub: 'u-1' } });
    } finally { await c.close(); }
  });

  test('without the ca, node\'s trust store refuses it (never a pass)', async () => {
    const c = client(idp);
    try {
      const r = await c.introspect('good');
      assert.ok(!r.ok && r.failure === 'unreachable', JSON.stringify(r));
    } finally { await c.close(); }
  });
});
