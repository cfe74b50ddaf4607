/**
 * Test support: a throw-away PKI made with the `openssl` CLI in a temp dir
 * (CAs, server and client certificates, encrypted keys), for the TLS tests
 * and the `tls` load-test scenario. EC P-256 keys (fast to make), 2-day
 * validity. Not used by the gateway itself.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What {@link TestPki.issue} makes. */
export interface IssueOptions {
  /** `-subj` form, e.g. `/O=Partners, Inc./CN=partner-1`. */
  subject: string;
  /** subjectAltName value, e.g. `DNS:localhost,IP:127.0.0.1` or `URI:spiffe://example.org/ns/a`. */
  san?: string;
  /** Name of the issuing CA made with {@link TestPki.ca} (default `ca`). */
  ca?: string;
}

// why: an explicit minimal config, so the result does not depend on the
// host's openssl.cnf (its default extensions, prompts).
const REQ_CNF = '[req]\ndistinguished_name=dn\nprompt=no\n[dn]\n';

/** A PKI in its own temp dir: files are `<dir>/<name>.crt` and `<dir>/<name>.key`. */
export class TestPki {
  readonly dir: string;

  constructor(dir?: string) {
    this.dir = dir ?? mkdtempSync(join(tmpdir(), 'turnpike-pki-'));
    writeFileSync(join(this.dir, 'req.cnf'), REQ_CNF);
  }

  /** `<dir>/<file>`. */
  file(file: string): string {
    return join(this.dir, file);
  }

  /** A self-signed CA `<name>.crt` / `<name>.key`. */
  ca(name: string, subject: string): void {
    const cnf = this.file(`${name}.cnf`);
    writeFileSync(cnf, REQ_CNF + '[ext]\nbasicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\n');
    this.openssl(['req', '-x509', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', this.file(`${name}.key`), '-out', this.file(`${name}.crt`), '-days', '2', '-subj', `/CN=${subject}`,
      '-config', cnf, '-extensions', 'ext']);
  }

  /** A certificate `<name>.crt` / `<name>.key` signed by a CA of this PKI, for TLS servers and clients alike. */
  issue(name: string, o: IssueOptions): void {
    const ca = o.ca ?? 'ca';
    const csr = this.file(`${name}.csr`);
    const ext = this.file(`${name}.ext`);
    writeFileSync(ext, '[ext]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n'
      + (o.san === undefined ? '' : `subjectAltName=${o.san}\n`));
    this.openssl(['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', this.file(`${name}.key`), '-out', csr, '-subj', o.subject, '-utf8', '-config', this.file('req.cnf')]);
    this.openssl(['x509', '-req', '-in', csr, '-CA', this.file(`${ca}.crt`), '-CAkey', this.file(`${ca}.key`),
      '-set_serial', '0x' + randomBytes(8).toString('hex'), '-days', '2', '-out', this.file(`${name}.crt`),
      '-extfile', ext, '-extensions', 'ext']);
  }

  /** Writes `<name>.enc.key`: `<name>.key` encrypted (AES-256, PKCS#8) with `passphrase`. */
  encryptKey(name: string, passphrase: string): string {
    const out = this.file(`${name}.enc.key`);
    this.openssl(['pkey', '-in', this.file(`${name}.key`), '-aes256', '-passout', `pass:${passphrase}`, '-out', out]);
    return out;
  }

  /** Removes the directory. */
  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
}

/**
 * The PKI the TLS tests share: CA `ca` and an unrelated `other-ca`;
 * `server` (CN=localhost, SAN localhost and 127.0.0.1), `sni`
 * (api.example.com); clients `client` (O=Partners, Inc., CN=partner-1, SAN
 * URI spiffe://example.org/ns/a), `client-b` (CN=intruder-9, SAN DNS
 * svc.other.test and URI spiffe://other.test/x) and `wrong-ca` (like
 * `client`, signed by other-ca); `server.enc.key` encrypted with
 * `server-secret`.
 */
export function standardPki(dir?: string): TestPki {
  const pki = new TestPki(dir);
  pki.ca('ca', 'Turnpike Test CA');
  pki.ca('other-ca', 'Some Other CA');
  pki.issue('server', { subject: '/CN=localhost', san: 'DNS:localhost,IP:127.0.0.1' });
  pki.issue('sni', { subject: '/CN=api.example.com', san: 'DNS:api.example.com' });
  pki.issue('client', { subject: '/O=Partners, Inc./CN=partner-1', san: 'URI:spiffe://example.org/ns/a' });
  pki.issue('client-b', { subject: '/CN=intruder-9', san: 'DNS:svc.other.test,URI:spiffe://other.test/x' });
  pki.issue('wrong-ca', { subject: '/O=Partners, Inc./CN=partner-1', san: 'URI:spiffe://example.org/ns/a', ca: 'other-ca' });
  pki.encryptKey('server', 'server-secret');
  return pki;
}
