import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** PEM files made by {@link makeUpstreamCerts}, as absolute paths. */
export interface UpstreamCerts {
  dir: string;
  /** The CA that signs the servers' and the gateway's certificates. */
  ca: string;
  /** Another CA, trusted by nobody. */
  wrongCa: string;
  /** Upstream server certificate (SAN DNS:localhost, IP:127.0.0.1) and key, signed by `ca`. */
  serverCert: string;
  serverKey: string;
  /** Same names, signed by `wrongCa`. */
  wrongServerCert: string;
  wrongServerKey: string;
  /** The gateway's client certificate (CN=turnpike-gateway) and key, signed by `ca`. */
  clientCert: string;
  clientKey: string;
  /** The same key, encrypted (AES-256) with passphrase `s3cret`. */
  clientKeyEncrypted: string;
  /** A key that belongs to no certificate here. */
  otherKey: string;
  /** Deletes the directory. */
  remove(): void;
}

function openssl(dir: string, ...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function key(dir: string, name: string): void {
  openssl(dir, 'genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', name);
}

function ca(dir: string, name: string, cn: string): void {
  key(dir, `${name}.key`);
  openssl(dir, 'req', '-x509', '-new', '-key', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
}

function leaf(dir: string, name: string, cn: string, issuer: string, ext: string): void {
  key(dir, `${name}.key`);
  openssl(dir, 'req', '-new', '-key', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${issuer}.pem`, '-CAkey', `${issuer}.key`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`);
}

/**
 * Generates, with the openssl CLI in a fresh temp directory, a CA, a wrong
 * CA, upstream server certificates from both, and a client certificate for
 * mTLS (plain and encrypted key).
 */
export function makeUpstreamCerts(): UpstreamCerts {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-upstream-tls-'));
  const serverExt = 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n';
  ca(dir, 'ca', 'Turnpike Test CA');
  ca(dir, 'wrong-ca', 'Wrong Test CA');
  leaf(dir, 'server', 'localhost', 'ca', serverExt);
  leaf(dir, 'wrong-server', 'localhost', 'wrong-ca', serverExt);
  leaf(dir, 'client', 'turnpike-gateway', 'ca', 'extendedKeyUsage=clientAuth\n');
  openssl(dir, 'pkey', '-in', 'client.key', '-aes256', '-passout', 'pass:s3cret', '-out', 'client-encrypted.key');
  key(dir, 'other.key');
  const p = (f: string): string => join(dir, f);
  return {
    dir, ca: p('ca.pem'), wrongCa: p('wrong-ca.pem'),
    serverCert: p('server.pem'), serverKey: p('server.key'),
    wrongServerCert: p('wrong-server.pem'), wrongServerKey: p('wrong-server.key'),
    clientCert: p('client.pem'), clientKey: p('client.key'), clientKeyEncrypted: p('client-encrypted.key'),
    otherKey: p('other.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
