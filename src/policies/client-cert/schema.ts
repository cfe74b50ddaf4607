/**
 * The client-cert kind's config: its JSON Schema fragment and the checks the
 * schema cannot express (patterns well formed, the listener verifies client
 * certificates at all).
 */
import type { ConfigPath } from '../../config/issues.js';
import type { IssueSink } from '../types.js';

type Obj = Record<string, unknown>;

/** The kind's config as written (schema- and check-valid). */
export interface ClientCertConfig {
  /** `CN=<glob>` entries: the certificate's subject CN must match one. */
  readonly subjects?: readonly string[];
  /** Globs: one of the certificate's SAN DNS names or URIs must match one. */
  readonly sans?: readonly string[];
}

const globList = (what: string): Obj => ({
  type: 'array',
  description: what,
  minItems: 1,
  uniqueItems: true,
  'x-message': { minItems: 'must not be empty (leave the list out instead)', uniqueItems: 'lists the same entry twice' },
  items: { type: 'string', minLength: 1 },
});

/** JSON Schema (2020-12) of `{ client-cert: <this> }`. */
export const clientCertSchema: Readonly<Obj> = {
  type: ['object', 'null'],
  description: 'Requires a verified TLS client certificate (server.tls.clientCa), optionally with a matching subject CN and/or SAN, and makes it the consumer. Without one: 401 client_cert_required; not matching: 403 client_cert_forbidden.',
  additionalProperties: false,
  properties: {
    subjects: globList('Subject CNs allowed, written CN=<glob> (`*` = any run of characters), e.g. CN=partner-*. Case-sensitive.'),
    sans: globList('SAN DNS names or URIs allowed, as globs (`*` = any run of characters), e.g. spiffe://example.org/ns/*. DNS names are compared lower-case.'),
  },
};

/** Every `subjects` entry is `CN=<glob>`; the gateway verifies client certificates at all. */
export function checkClientCert(config: unknown, at: ConfigPath, issue: IssueSink, gateway: Readonly<Record<string, unknown>>): void {
  const tls = isObj(gateway.server) && isObj(gateway.server.tls) ? gateway.server.tls : null;
  if (tls === null || typeof tls.clientCa !== 'string') {
    issue(at, 'needs client certificates: set server.tls.clientCa (the CA client certificates must chain to)');
  } else if (tls.clientAuth === 'none') {
    issue(at, 'needs client certificates, but server.tls.clientAuth is none (set optional or require)');
  }
  if (!isObj(config) || !Array.isArray(config.subjects)) return;
  config.subjects.forEach((s: unknown, i: number) => {
    if (typeof s !== 'string' || s === '') return; // the schema reported it
    if (!s.startsWith('CN=')) issue([...at, 'subjects', i], 'must be CN=<glob> (only the common name can be matched), e.g. CN=partner-*');
    else if (s.length === 3) issue([...at, 'subjects', i], 'needs a name or glob after CN=');
  });
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
