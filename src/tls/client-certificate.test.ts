import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { ClientCertCache, parseClientCertificate, parseSubjectAltName, rfc4514 } from './client-certificate.js';
import { TestPki } from './testing/test-pki.js';

let pki: TestPki;

before(() => {
  pki = new TestPki();
  pki.ca('ca', 'Test CA');
  pki.issue('plain', { subject: '/O=Partners, Inc./CN=partner-1', san: 'URI:spiffe://example.org/ns/a,DNS:Svc.Example.COM,IP:10.0.0.1' });
  pki.issue('odd', { subject: '/O=A\\+B "q"/CN=é ü/CN=second', san: 'DNS:a.example,URI:spiffe://x/y' });
  pki.issue('bare', { subject: '/O=No Name Inc' });
});
after(() => pki.cleanup());

function pem(name: string): string {
  return readFileSync(pki.file(`${name}.crt`), 'utf8');
}

test('a client certificate: RFC 4514 subject (most specific first), CN, SAN DNS (lower-case) and URI, SHA-256 hex fingerprint', () => {
  const c = parseClientCertificate(pem('plain'))!;
  assert.equal(c.subject, 'CN=partner-1,O=Partners\\, Inc.');
  assert.equal(c.cn, 'partner-1');
  assert.deepEqual(c.dns, ['svc.example.com']);
  assert.deepEqual(c.uris, ['spiffe://example.org/ns/a']);
  const expected = new X509Certificate(pem('plain')).fingerprint256.replaceAll(':', '').toLowerCase();
  assert.equal(c.fingerprint, expected);
  assert.match(c.fingerprint, /^[0-9a-f]{64}$/);
});

test('special characters: escaped per RFC 4514, non-ASCII as \\XX UTF-8 escapes (header-safe); the CN is the most specific one, unescaped', () => {
  const c = parseClientCertificate(pem('odd'))!;
  assert.equal(c.subject, 'CN=second,CN=\\C3\\A9 \\C3\\BC,O=A\\+B \\"q\\"');
  assert.match(c.subject, /^[\x20-\x7e]+$/);
  assert.equal(c.cn, 'second');
  const bare = parseClientCertificate(pem('bare'))!;
  assert.equal(bare.cn, '');
  assert.equal(bare.subject, 'O=No Name Inc');
  assert.deepEqual([bare.dns, bare.uris], [[], []]);
});

test('rfc4514: node subject lines reversed; multi-valued RDNs joined with +; controls escaped', () => {
  assert.equal(rfc4514('C=DE\nO=Acme\nCN=a'), 'CN=a,O=Acme,C=DE');
  assert.equal(rfc4514('O=x\nCN=second + UID=u1'), 'CN=second+UID=u1,O=x');
  assert.equal(rfc4514('CN=a\u007fb'), 'CN=a\\7Fb');
  assert.equal(rfc4514('CN=😀'), 'CN=\\F0\\9F\\98\\80');
});

test('parseSubjectAltName: node quotes values with commas and other special characters as JSON strings', () => {
  const dns: string[] = [];
  const uris: string[] = [];
  parseSubjectAltName('DNS:Foo.Example.com, URI:"spiffe://x/a\\u002cb", email:a@b.c, IP Address:0:0:0:0:0:0:0:1, '
    + 'DirName:"O=y\\u002cCN=x\\\\\\u002c URI:evil", URI:http://x/q, URI:spiffe://example.org/ns/a', dns, uris);
  assert.deepEqual(dns, ['foo.example.com']);
  assert.deepEqual(uris, ['spiffe://x/a,b', 'http://x/q', 'spiffe://example.org/ns/a'], 'a URI inside a quoted DirName is not an entry');
});

test('the cache parses a certificate once, is bounded, and remembers text that is no certificate as null', () => {
  const cache = new ClientCertCache(2);
  const a = cache.get(pem('plain'));
  assert.ok(a !== null);
  assert.equal(cache.get(pem('plain')), a, 'the same object for the same PEM');
  assert.equal(cache.get('not a certificate'), null);
  assert.equal(cache.size, 2);
  const b = cache.get(pem('odd'));
  assert.equal(cache.size, 2, 'the oldest entry was dropped');
  assert.equal(cache.get(pem('odd')), b);
  assert.notEqual(cache.get(pem('plain')), a, 'evicted, then parsed again');
});
