/**
 * The TLS side of a load-test run for scenarios with `tls` set: a CA, a
 * server certificate (localhost / 127.0.0.1) and a client certificate made
 * with the openssl CLI in the run directory, the template variables that
 * point the gateway config at them, and what the generators trust and
 * present.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestPki } from '../src/tls/testing/test-pki.js';

/** Certificates for a TLS gateway under load. */
export interface TlsTarget {
  /** {{TLS_CERT}}, {{TLS_KEY}} and {{TLS_CLIENT_CA}} of the config templates. */
  readonly vars: Record<string, string>;
  /** The CA certificate (PEM) clients trust (it also issued the client certificate). */
  readonly ca: Buffer;
  /** A client certificate and key (PEM): CN=loadtest-client, SAN URI spiffe://loadtest.example/client. */
  readonly client: { readonly cert: Buffer; readonly key: Buffer };
}

/** Makes the certificates in a fresh folder under `runDir`. */
export function makeTlsTarget(runDir: string): TlsTarget {
  const pki = new TestPki(mkdtempSync(join(runDir, 'pki-')));
  pki.ca('ca', 'Turnpike Load Test CA');
  pki.issue('server', { subject: '/CN=localhost', san: 'DNS:localhost,IP:127.0.0.1' });
  pki.issue('client', { subject: '/CN=loadtest-client', san: 'URI:spiffe://loadtest.example/client' });
  return {
    vars: { TLS_CERT: pki.file('server.crt'), TLS_KEY: pki.file('server.key'), TLS_CLIENT_CA: pki.file('ca.crt') },
    ca: readFileSync(pki.file('ca.crt')),
    client: { cert: readFileSync(pki.file('client.crt')), key: readFileSync(pki.file('client.key')) },
  };
}
