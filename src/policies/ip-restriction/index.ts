/**
 * The ip-restriction policy kind: allow and/or deny lists of IPv4/IPv6
 * addresses and CIDRs, checked against the client address (after
 * server.trustedProxies) with node's BlockList.
 */
import type { PolicyFactory, PolicyInstance, PolicyProvider, PolicySpec } from '../types.js';
import { IpRestrictionPolicy } from './ip-restriction-policy.js';
import { checkIpRestriction, ipRestrictionSchema, type IpRestrictionConfig } from './schema.js';

class IpRestrictionProvider implements PolicyProvider {
  instance(spec: PolicySpec): PolicyInstance {
    return new IpRestrictionPolicy(spec.name, spec.config as IpRestrictionConfig);
  }

  status(): unknown {
    return null;
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The `ip-restriction` policy kind (registered in ../registry.ts). */
export const ipRestrictionFactory: PolicyFactory = {
  name: 'ip-restriction',
  schema: ipRestrictionSchema,
  check: checkIpRestriction,
  create(): PolicyProvider {
    return new IpRestrictionProvider();
  },
};

export type { IpRestrictionConfig } from './schema.js';
