/**
 * The client-cert policy kind: mutual TLS on a route. Requires the verified
 * client certificate of the request (server.tls.clientCa), optionally with a
 * subject CN and/or SAN matching globs, and makes it the consumer.
 */
import type { PolicyFactory, PolicyProvider, PolicySpec } from '../types.js';
import { statelessProvider } from '../stateless-provider.js';
import { ClientCertPolicy } from './client-cert-policy.js';
import { checkClientCert, clientCertSchema, type ClientCertConfig } from './schema.js';

/** The `client-cert` policy kind (registered in ../registry.ts). */
export const clientCertFactory: PolicyFactory = {
  name: 'client-cert',
  schema: clientCertSchema,
  check: checkClientCert,
  create(specs: readonly PolicySpec[]): PolicyProvider {
    return statelessProvider(specs, (spec) => new ClientCertPolicy(spec.name, spec.config as ClientCertConfig | null));
  },
};

export type { ClientCertConfig } from './schema.js';
