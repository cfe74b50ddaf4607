/**
 * The acl policy kind: allows or refuses the identified consumer by group
 * (allow/deny lists). Stateless: no connections, timers or metrics.
 */
import { statelessProvider } from '../stateless-provider.js';
import type { PolicyFactory, PolicyProvider, PolicySpec } from '../types.js';
import { AclPolicy } from './acl-policy.js';
import { aclSchema, checkAcl, type AclConfig } from './schema.js';

/** The `acl` policy kind (registered in ../registry.ts). */
export const aclFactory: PolicyFactory = {
  name: 'acl',
  schema: aclSchema,
  check: checkAcl,
  create(specs: readonly PolicySpec[]): PolicyProvider {
    return statelessProvider(specs, (spec) => new AclPolicy(spec.name, spec.config as AclConfig));
  },
};

export type { AclConfig } from './schema.js';
