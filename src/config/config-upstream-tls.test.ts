import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from './index.js';
import { configError } from './config-test-support.js';
import { makeUpstreamCerts } from '../../test/e2e/upstream-tls-certs.js';

const certs = makeUpstreamCerts();
after(() => certs.remove());

/** The issues of a config as `line:col path: message`. */
function errorsOf(yaml: string): string[] {
  return configError(() => parseConfig(yaml, 'test.yaml', {})).issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
}

function upstream(tls: string, url = 'https://localhost:8443'): string {
  return `upstreams:
  secure:
    targets: [ { url: "${url}" } ]
    tls: ${tls}
`;
}

test('a full tls block is normalised: absolute paths, serverName lower-cased, defaults filled', () => {
  const c = parseConfig(upstream(`{ ca: "${certs.ca}", cert: "${certs.clientCert}", key: "${certs.clientKey}", serverName: Api.Internal, minVersion: TLSv1.3 }`), 'test.yaml', {});
  assert.deepStrictEqual(c.upstreams.secure.tls, {
    ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, passphrase: null, serverName: 'api.internal', minVersion: 'TLSv1.3',
  });
});

test('https targets without a tls block get the defaults; http-only upstreams get none', () => {
  const c = parseConfig(`upstreams:
  a: { targets: [ { url: "https://example.com" } ] }
  b: { targets: [ { url: "http://127.0.0.1:3001" } ] }
`, 'test.yaml', {});
  assert.deepStrictEqual(c.upstreams.a.tls, { ca: null, cert: null, key: null, passphrase: null, serverName: null, minVersion: 'TLSv1.2' });
  assert.equal(c.upstreams.b.tls, null);
});

test('missing files are reported at their field with file:line', () => {
  const missing = join(certs.dir, 'nope.pem');
  assert.deepStrictEqual(errorsOf(upstream(`
      ca: ${missing}
      cert: ${missing}
      key: ${missing}`)), [
    `5:11 upstreams.secure.tls.ca: cannot read ${missing} (ENOENT)`,
    `6:13 upstreams.secure.tls.cert: cannot read ${missing} (ENOENT)`,
    `7:12 upstreams.secure.tls.key: cannot read ${missing} (ENOENT)`,
  ]);
});

test('a key that does not belong to the certificate is a config error', () => {
  assert.deepStrictEqual(errorsOf(upstream(`{ cert: "${certs.clientCert}", key: "${certs.otherKey}" }`)).map((e) => e.replace(/^4:\d+ /, '')), [
    `upstreams.secure.tls.key: ${certs.otherKey} does not match the certificate in ${certs.clientCert}`,
  ]);
});

test('files that are not PEM are named', () => {
  const junk = join(certs.dir, 'junk.pem');
  writeFileSync(junk, 'not a certificate\n');
  assert.deepStrictEqual(errorsOf(upstream(`{ ca: "${junk}", cert: "${junk}", key: "${junk}" }`)).map((e) => e.replace(/^\d+:\d+ /, '')), [
    `upstreams.secure.tls.ca: no PEM certificate (-----BEGIN CERTIFICATE-----) in ${junk}`,
    `upstreams.secure.tls.cert: no PEM certificate (-----BEGIN CERTIFICATE-----) in ${junk}`,
    `upstreams.secure.tls.key: no PEM private key (-----BEGIN ... PRIVATE KEY-----) in ${junk}`,
  ]);
});

test('cert and key go together; passphrase needs key', () => {
  assert.deepStrictEqual(errorsOf(upstream(`{ cert: "${certs.clientCert}" }`)).map((e) => e.replace(/^\d+:\d+ /, '')), [
    'upstreams.secure.tls.key: is required with cert (the client certificate\'s private key)',
  ]);
  assert.deepStrictEqual(errorsOf(upstream(`{ key: "${certs.clientKey}", passphrase: x }`)).map((e) => e.replace(/^\d+:\d+ /, '')), [
    'upstreams.secure.tls.cert: is required with key (the client certificate)',
  ]);
  assert.deepStrictEqual(errorsOf(upstream(`{ passphrase: x }`)).map((e) => e.replace(/^\d+:\d+ /, '')), [
    'upstreams.secure.tls.passphrase: only applies with key',
  ]);
});

test('an encrypted key needs its passphrase: missing, wrong, unset env var, then right (env:)', () => {
  const base = `{ cert: "${certs.clientCert}", key: "${certs.clientKeyEncrypted}"`;
  assert.deepStrictEqual(errorsOf(upstream(`${base} }`)).map((e) => e.replace(/^\d+:\d+ /, '')), [
    `upstreams.secure.tls.key: ${certs.clientKeyEncrypted} is encrypted: set tls.passphrase`,
  ]);
  assert.deepStrictEqual(errorsOf(upstream(`${base}, passphrase: wrong }`)).map((e) => e.replace(/^\d+:\d+ /, '')), [
    `upstreams.secure.tls.passphrase: does not decrypt ${certs.clientKeyEncrypted}`,
  ]);
  delete process.env.TURNPIKE_TEST_KEY_PASS;
  assert.deepStrictEqual(errorsOf(upstream(`${base}, passphrase: "env:TURNPIKE_TEST_KEY_PASS" }`)).map((e) => e.replace(/^\d+:\d+ /, '')), [
    'upstreams.secure.tls.passphrase: environment variable TURNPIKE_TEST_KEY_PASS is not set',
  ]);
  process.env.TURNPIKE_TEST_KEY_PASS = 's3cret';
  try {
    const c = parseConfig(upstream(`${base}, passphrase: "env:TURNPIKE_TEST_KEY_PASS" }`), 'test.yaml', {});
    assert.equal(c.upstreams.secure.tls?.passphrase, 'env:TURNPIKE_TEST_KEY_PASS', 'the reference is kept, not the secret');
  } finally {
    delete process.env.TURNPIKE_TEST_KEY_PASS;
  }
});

test('with tls every target must be https://; serverName is a host name; minVersion is 1.2 or 1.3', () => {
  assert.deepStrictEqual(errorsOf(`upstreams:
  mixed:
    targets: [ { url: "https://localhost:8443" }, { url: "http://127.0.0.1:3001" } ]
    tls: { serverName: 10.0.0.1, minVersion: TLSv1.1 }
`), [
    '3:58 upstreams.mixed.targets[1].url: must be https:// when tls is set (tls applies to every target of the upstream)',
    '4:24 upstreams.mixed.tls.serverName: must be a host name, not an IP address (for an IP target leave it out: the certificate is then checked for that IP)',
    '4:46 upstreams.mixed.tls.minVersion: must be one of: TLSv1.2, TLSv1.3',
  ]);
});

test('grpc upstreams take https:// targets and the same tls block (normalised as for http upstreams)', () => {
  const c = parseConfig(`upstreams:
  library:
    protocol: grpc
    targets: [ { url: "https://127.0.0.1:50051" }, { url: "https://Grpc.Internal" } ]
    tls: { ca: "${certs.ca}", cert: "${certs.clientCert}", key: "${certs.clientKey}", serverName: Library.Internal }
  plain: { protocol: grpc, targets: [ { url: "h2c://127.0.0.1:50052" } ] }
  defaults: { protocol: grpc, targets: [ { url: "https://grpc.example.com:443" } ] }
`, 'test.yaml', {});
  assert.deepStrictEqual(c.upstreams.library.targets.map((t) => t.url), ['https://127.0.0.1:50051', 'https://grpc.internal']);
  assert.deepStrictEqual(c.upstreams.library.tls, {
    ca: certs.ca, cert: certs.clientCert, key: certs.clientKey, passphrase: null, serverName: 'library.internal', minVersion: 'TLSv1.2',
  });
  assert.equal(c.upstreams.plain.tls, null);
  assert.deepStrictEqual(c.upstreams.defaults.tls, { ca: null, cert: null, key: null, passphrase: null, serverName: null, minVersion: 'TLSv1.2' });
});

test('grpc upstreams get the same tls checks: https:// targets only, files, key/cert match, passphrase', () => {
  const missing = join(certs.dir, 'nope.pem');
  assert.deepStrictEqual(errorsOf(`upstreams:
  library:
    protocol: grpc
    targets: [ { url: "h2c://127.0.0.1:50051" }, { url: "https://127.0.0.1:50052" } ]
    tls: { ca: "${missing}", cert: "${certs.clientCert}", key: "${certs.otherKey}" }
  encrypted:
    protocol: grpc
    targets: [ { url: "https://127.0.0.1:50053" } ]
    tls: { cert: "${certs.clientCert}", key: "${certs.clientKeyEncrypted}" }
`).map((e) => e.replace(/^\d+:\d+ /, '')), [
    'upstreams.library.targets[0].url: must be https:// when tls is set (tls applies to every target of the upstream)',
    `upstreams.library.tls.ca: cannot read ${missing} (ENOENT)`,
    `upstreams.library.tls.key: ${certs.otherKey} does not match the certificate in ${certs.clientCert}`,
    `upstreams.encrypted.tls.key: ${certs.clientKeyEncrypted} is encrypted: set tls.passphrase`,
  ]);
});
