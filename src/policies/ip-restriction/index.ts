/**
 * The ip-restriction policy kind: allow and/or deny lists of IPv4/IPv6
 * addresses and CIDRs, checked against the client address (after
 * server.trustedProxies) with node's BlockList.
 */
import type { PolicyFactory, PolicyProvider, PolicySpec } from '../types.js';
import { statelessProvider } from '../stateless-provider.js';
import { IpRestrictionPolicy } from './ip-restriction-policy.js';
import { checkIpRestriction, ipRestrictionSchema, type IpRestrictionConfig } from './schema.js';

/** The `ip-restriction` policy kind (registered in ../registry.ts). */
export const ipRestrictionFactory: PolicyFactory = {
  name: 'ip-restriction',
  schema: ipRestrictionSchema,
  check: checkIpRestriction,
  create(specs: readonly PolicySpec[]): PolicyProvider {
    return statelessProvider(specs, (spec) => new IpRestrictionPolicy(spec.name, spec.config as IpRestrictionConfig));
  },
};

export type { IpRestrictionConfig } from './schema.js';
