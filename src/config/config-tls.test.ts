import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { parseConfig } from './load.js';
import { configError } from './config-test-support.js';
import { tlsFileProblems } from './tls-check.js';
import { standardPki, type TestPki } from '../tls/testing/test-pki.js';

let pki: TestPki;

before(() => {
  pki = standardPki();
  writeFileSync(pki.file('garbage.pem'), 'not a key\n');
  pki.issue('intermediate-only', { subject: '/CN=not a root' });
});
after(() => pki.cleanup());

/** The reported issues as `file:line:col: path: message` lines. */
function errorsOf(yaml: string): string[] {
  return configError(() => parseConfig(yaml, 'gw.yaml', {})).message.split('\n').slice(1);
}

function tlsYaml(fields: string): string {
  return `server:\n  tls:\n${fields}`;
}

test('the contract example loads: absolute paths, lower-case SNI hosts, clientAuth as written', () => {
  process.env.TURNPIKE_TEST_TLS_PASSPHRASE = 'server-secret';
  const config = parseConfig(`server:
  tls:
    cert: ${pki.file('server.crt')}
    key: ${pki.file('server.enc.key')}
    passphrase: env:TURNPIKE_TEST_TLS_PASSPHRASE
    sni: [ { host: API.Example.com, cert: ${pki.file('sni.crt')}, key: ${pki.file('sni.key')} } ]
    clientCa: ${pki.file('ca.crt')}
    clientAuth: optional
  redirectHttp: 8081
`, 'gw.yaml', {});
  assert.deepEqual(config.server.tls, {
    cert: pki.file('server.crt'), key: pki.file('server.enc.key'), passphrase: 'env:TURNPIKE_TEST_TLS_PASSPHRASE',
    sni: [{ host: 'api.example.com', cert: pki.file('sni.crt'), key: pki.file('sni.key'), passphrase: null }],
    clientCa: pki.file('ca.crt'), clientAuth: 'optional',
  });
  assert.equal(config.server.redirectHttp, 8081);
  assert.deepEqual(tlsFileProblems(config.server.tls!), []);
});

test('defaults: no tls, no redirect; clientAuth is require with a clientCa and none without', () => {
  const plain = parseConfig('', 'gw.yaml', {});
  assert.equal(plain.server.tls, null);
  assert.equal(plain.server.redirectHttp, null);
  const withCa = parseConfig(tlsYaml(`    cert: ${pki.file('server.crt')}\n    key: ${pki.file('server.key')}\n    clientCa: ${pki.file('ca.crt')}\n`), 'gw.yaml', {});
  assert.equal(withCa.server.tls!.clientAuth, 'require');
  const noCa = parseConfig(tlsYaml(`    cert: ${pki.file('server.crt')}\n    key: ${pki.file('server.key')}\n`), 'gw.yaml', {});
  assert.equal(noCa.server.tls!.clientAuth, 'none');
  assert.deepEqual(noCa.server.tls!.sni, []);
});

test('client certificates per SNI host are refused with file:line:field', () => {
  const errors = errorsOf(`server:
  tls:
    cert: ${pki.file('server.crt')}
    key: ${pki.file('server.key')}
    sni:
      - host: api.example.com
        cert: ${pki.file('sni.crt')}
        key: ${pki.file('sni.key')}
        clientCa: ${pki.file('ca.crt')}
        clientAuth: require
`);
  assert.equal(errors.length, 2, errors.join('\n'));
  assert.match(errors[0], /^gw\.yaml:9:19: server\.tls\.sni\[0\]\.clientCa: client certificates cannot be configured per SNI host .*set server\.tls\.clientCa, which applies to every host$/);
  assert.match(errors[1], /^gw\.yaml:10:21: server\.tls\.sni\[0\]\.clientAuth: client certificates cannot be configured per SNI host/);
});

test('bad files: missing, not a key, encrypted without passphrase, wrong passphrase, key of another certificate', () => {
  const cases: Array<[string, RegExp]> = [
    [`    cert: ${pki.file('nope.crt')}\n    key: ${pki.file('server.key')}\n`,
      /^gw\.yaml:3:11: server\.tls\.cert: cannot read \/.*nope\.crt \(ENOENT\)$/],
    [`    cert: ${pki.file('garbage.pem')}\n    key: ${pki.file('server.key')}\n`, /^gw\.yaml:3:11: server\.tls\.cert: .*garbage\.pem holds no PEM certificate$/],
    [`    cert: ${pki.file('server.crt')}\n    key: ${pki.file('garbage.pem')}\n`, /^gw\.yaml:4:10: server\.tls\.key: .*garbage\.pem holds no PEM private key$/],
    [`    cert: ${pki.file('server.crt')}\n    key: ${pki.file('server.enc.key')}\n`,
      /^gw\.yaml:4:10: server\.tls\.key: .*server\.enc\.key is encrypted: set server\.tls\.passphrase/],
    [`    cert: ${pki.file('server.crt')}\n    key: ${pki.file('server.enc.key')}\n    passphrase: wrong\n`,
      /^gw\.yaml:5:17: server\.tls\.passphrase: cannot decrypt .*server\.enc\.key with this passphrase \(wrong passphrase\?\)$/],
    [`    cert: ${pki.file('server.crt')}\n    key: ${pki.file('server.enc.key')}\n    passphrase: env:TURNPIKE_TEST_UNSET_PASSPHRASE\n`,
      /^gw\.yaml:5:17: server\.tls\.passphrase: environment variable TURNPIKE_TEST_UNSET_PASSPHRASE is not set$/],
    [`    cert: ${pki.file('server.crt')}\n    key: ${pki.file('sni.key')}\n`,
      /^gw\.yaml:4:10: server\.tls\.key: .*sni\.key is not the key of the certificate in .*server\.crt$/],
  ];
  for (const [fields, expected] of cases) {
    const errors = errorsOf(tlsYaml(fields));
    assert.equal(errors.length, 1, errors.join('\n'));
    assert.match(errors[0], expected);
  }
  // The same checks apply to every SNI entry.
  const sni = errorsOf(tlsYaml(`    cert: ${pki.file('server.crt')}\n    key: ${pki.file('server.key')}\n    sni:\n`
    + `      - { host: a.example, cert: ${pki.file('sni.crt')}, key: ${pki.file('server.key')} }\n`
    + `      - { host: A.example, cert: ${pki.file('sni.crt')}, key: ${pki.file('sni.key')} }\n`
    + `      - { host: "bad host", cert: ${pki.file('sni.crt')}, key: ${pki.file('sni.key')} }\n`));
  assert.equal(sni.length, 3, sni.join('\n'));
  assert.match(sni[0], /server\.tls\.sni\[0\]\.key: .*server\.key is not the key of the certificate in .*sni\.crt$/);
  assert.match(sni[1], /server\.tls\.sni\[1\]\.host: duplicate SNI host "a\.example" \(also server\.tls\.sni\[0\]\)$/);
  assert.match(sni[2], /server\.tls\.sni\[2\]\.host: must be a host name like api\.example\.com/);
});

test('client certificate settings: clientAuth needs a clientCa; the CA bundle needs a root; the client-cert policy needs client certificates', () => {
  const base = `    cert: ${pki.file('server.crt')}\n    key: ${pki.file('server.key')}\n`;
  assert.match(errorsOf(tlsYaml(`${base}    clientAuth: require\n`))[0], /server\.tls\.clientAuth: require needs server\.tls\.clientCa/);
  assert.match(errorsOf(tlsYaml(`${base}    clientCa: ${pki.file('intermediate-only.crt')}\n`))[0],
    /server\.tls\.clientCa: .*holds no self-signed \(root\) CA certificate/);
  assert.match(errorsOf(tlsYaml(`${base}    clientCa: ${pki.file('garbage.pem')}\n`))[0], /server\.tls\.clientCa: .*garbage\.pem holds no PEM certificate$/);
  assert.match(errorsOf(tlsYaml(`${base}    clientAuth: sometimes\n`))[0], /server\.tls\.clientAuth: must be none, optional or require/);
  const route = 'upstreams: { u: { targets: [ { url: "http://127.0.0.1:1" } ] } }\nroutes: [ { name: r, match: { path: /x }, upstream: u, policies: [ { client-cert: {} } ] } ]\n';
  assert.match(errorsOf(route)[0], /routes\[0\]\.policies\[0\]\.client-cert: needs client certificates: set server\.tls\.clientCa/);
  assert.match(errorsOf(tlsYaml(`${base}    clientCa: ${pki.file('ca.crt')}\n    clientAuth: none\n`) + route)[0],
    /client-cert: needs client certificates, but server\.tls\.clientAuth is none/);
  const subjects = errorsOf(tlsYaml(`${base}    clientCa: ${pki.file('ca.crt')}\n`)
    + 'upstreams: { u: { targets: [ { url: "http://127.0.0.1:1" } ] } }\n'
    + 'routes: [ { name: r, match: { path: /x }, upstream: u, policies: [ { client-cert: { subjects: [ "O=Acme", "CN=" ], sans: [] } } ] } ]\n');
  assert.equal(subjects.length, 3, subjects.join('\n'));
  for (const expected of [
    'routes[0].policies[0].client-cert.sans: must not be empty (leave the list out instead)',
    'routes[0].policies[0].client-cert.subjects[0]: must be CN=<glob> (only the common name can be matched), e.g. CN=partner-*',
    'routes[0].policies[0].client-cert.subjects[1]: needs a name or glob after CN=',
  ]) assert.ok(subjects.some((e) => e.endsWith(`: ${expected}`)), `${expected}\nin\n${subjects.join('\n')}`);
});

test('redirectHttp needs tls and a port of its own', () => {
  assert.match(errorsOf('server: { redirectHttp: 8081 }\n')[0], /server\.redirectHttp: needs server\.tls/);
  const base = `    cert: ${pki.file('server.crt')}\n    key: ${pki.file('server.key')}\n`;
  assert.match(errorsOf(`${tlsYaml(base)}  port: 8443\n  redirectHttp: 8443\n`)[0], /server\.redirectHttp: must differ from server\.port/);
  assert.match(errorsOf(`${tlsYaml(base)}  redirectHttp: 9901\n`)[0], /server\.redirectHttp: must differ from admin\.port/);
  assert.match(errorsOf(`${tlsYaml(base)}  redirectHttp: 0\n`)[0], /server\.redirectHttp: must be an integer 1-65535/);
});

test('a worker re-checks the files it is about to load: a file replaced with a broken one since the load is named', () => {
  const config = parseConfig(tlsYaml(`    cert: ${pki.file('server.crt')}\n    key: ${pki.file('server.key')}\n`), 'gw.yaml', {});
  assert.deepEqual(tlsFileProblems(config.server.tls!), []);
  const tls = { ...config.server.tls!, key: pki.file('garbage.pem') };
  assert.deepEqual(tlsFileProblems(tls), [`server.tls.key: ${pki.file('garbage.pem')} holds no PEM private key`]);
});
