import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../errors/gateway-error.js';
import { RequestContext } from '../../ingress/request-context.js';
import type { ClientCertificate } from '../../tls/client-certificate.js';
import { ClientCertPolicy, certificateConsumer } from './client-cert-policy.js';

function cert(o: Partial<ClientCertificate>): ClientCertificate {
  return { subject: 'CN=x', cn: 'x', dns: [], uris: [], fingerprint: 'ff'.repeat(32), ...o };
}

function run(policy: ClientCertPolicy, c: ClientCertificate | null): { verdict: unknown; ctx: RequestContext } {
  // No response is written here, so the context needs none.
  const ctx = new RequestContext(null as never);
  ctx.clientCert = c;
  return { verdict: policy.access(ctx), ctx };
}

function code(v: unknown): string {
  return v instanceof GatewayError ? `${v.status} ${v.code}` : String(v);
}

const PARTNER = cert({ subject: 'CN=partner-1,O=P', cn: 'partner-1', uris: ['spiffe://example.org/ns/a'], dns: ['svc.example.org'] });
const OTHER = cert({ subject: 'CN=other', cn: 'other', uris: ['spiffe://other.test/x'], dns: ['api.other.test'] });

test('no certificate → 401 client_cert_required; {} accepts any verified certificate', () => {
  const any = new ClientCertPolicy('any', null);
  assert.equal(code(run(any, null).verdict), '401 client_cert_required');
  assert.equal(run(any, OTHER).verdict, undefined);
  assert.equal(new ClientCertPolicy('empty', {}).name, 'client-cert:empty');
});

test('subjects match the CN; sans match SAN URIs or DNS names; both lists must match when both are set', () => {
  const subjects = new ClientCertPolicy('s', { subjects: ['CN=partner-*', 'CN=ops'] });
  assert.equal(run(subjects, PARTNER).verdict, undefined);
  assert.equal(code(run(subjects, OTHER).verdict), '403 client_cert_forbidden');
  const sans = new ClientCertPolicy('u', { sans: ['spiffe://example.org/*', '*.OTHER.test'] });
  assert.equal(run(sans, PARTNER).verdict, undefined);
  assert.equal(run(sans, OTHER).verdict, undefined, 'DNS names are compared lower-case');
  const both = new ClientCertPolicy('b', { subjects: ['CN=partner-*'], sans: ['*.other.test'] });
  assert.equal(code(run(both, PARTNER).verdict), '403 client_cert_forbidden');
  assert.equal(code(run(both, OTHER).verdict), '403 client_cert_forbidden');
});

test('a match sets the consumer and the identity headers; the verdict is worked out once per certificate', () => {
  const p = new ClientCertPolicy('u', { sans: ['spiffe://example.org/*'] });
  const first = run(p, PARTNER);
  assert.deepEqual(first.ctx.consumer, {
    id: 'spiffe://example.org/ns/a', username: 'partner-1', groups: [], credential: { kind: 'mtls', id: PARTNER.fingerprint }, claims: null,
  });
  assert.deepEqual(first.ctx.upstreamIdentity, ['x-client-cert-subject', 'CN=partner-1,O=P', 'x-client-cert-fingerprint', PARTNER.fingerprint]);
  assert.equal(run(p, PARTNER).ctx.consumer, first.ctx.consumer, 'the same consumer object again');
});

test('consumer id: the matched SAN URI, else the first SAN URI, else the CN, else the fingerprint; values made header-safe', () => {
  const two = cert({ uris: ['spiffe://a/1', 'spiffe://b/2'], cn: 'c' });
  assert.equal(certificateConsumer(two, 'spiffe://b/2').id, 'spiffe://b/2');
  assert.equal(certificateConsumer(two, null).id, 'spiffe://a/1');
  assert.equal(certificateConsumer(cert({ cn: 'just-cn' }), null).id, 'just-cn');
  assert.equal(certificateConsumer(cert({ cn: '' }), null).id, 'ff'.repeat(32));
  const odd = certificateConsumer(cert({ cn: 'Zoë\r\nx-admin: 1' }), null);
  assert.equal(odd.id, 'Zo%C3%ABx-admin: 1');
  assert.equal(odd.username, 'Zo%C3%ABx-admin: 1');
});
