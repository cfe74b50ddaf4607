/**
 * The key-auth policy kind: identifies the consumer by an API key
 * (consumers[].keys, stored as SHA-256 digests) from a header and/or a query
 * parameter. Stateless: the consumer directory is built once per config.
 */
import { consumerDirectory } from '../consumers/directory.js';
import { statelessProvider } from '../stateless-provider.js';
import type { PolicyFactory, PolicyProvider, PolicySpec } from '../types.js';
import type { GatewayConfig } from '../../config/types.js';
import { KeyAuthPolicy } from './key-auth-policy.js';
import { checkKeyAuth, keyAuthSchema, type KeyAuthConfig } from './schema.js';

/** The `key-auth` policy kind (registered in ../registry.ts). */
export const keyAuthFactory: PolicyFactory = {
  name: 'key-auth',
  schema: keyAuthSchema,
  check: checkKeyAuth,
  create(specs: readonly PolicySpec[], config: GatewayConfig): PolicyProvider {
    const directory = consumerDirectory(config);
    return statelessProvider(specs, (spec) => new KeyAuthPolicy(spec.name, spec.config as KeyAuthConfig | null, directory));
  },
};

export type { KeyAuthConfig } from './schema.js';
