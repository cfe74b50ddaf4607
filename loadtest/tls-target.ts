/**
 * The TLS side of a load-test run for scenarios with `tls: true`: a CA and
 * a server certificate (localhost / 127.0.0.1) made with the openssl CLI in
 * the run directory, the template variables that point the gateway config
 * at them, and the CA the generators trust.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPki } from '../src/tls/testing/test-pki.js';

/** Certificates for a TLS gateway under load. */
export interface TlsTarget {
  /** {{TLS_CERT}} and {{TLS_KEY}} of the config template. */
  readonly vars: Record<string, string>;
  /** The CA certificate (PEM) clients trust. */
  readonly ca: Buffer;
}

/** Makes the certificates in a fresh folder under `runDir`. */
export function makeTlsTarget(runDir: string): TlsTarget {
  const pki = new TestPki(mkdtempSync(join(runDir, 'pki-')));
  pki.ca('ca', 'Turnpike Load Test CA');
  pki.issue('server', { subject: '/CN=localhost', san: 'DNS:localhost,IP:127.0.0.1' });
  return { vars: { TLS_CERT: pki.file('server.crt'), TLS_KEY: pki.file('server.key') }, ca: readFileSync(pki.file('ca.crt')) };
}
