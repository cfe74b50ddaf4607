/**
 * A policy kind for end-to-end tests: each spec's `config` is the instance
 * itself, so a test writes a policy's phases inline and puts it on routes of
 * a config it parsed (`route.policies`), then starts the worker with
 * `policyFactories: withTestKind()`.
 */
import { POLICY_FACTORIES } from '../../src/policies/registry.js';
import type { PolicyFactory, PolicyInstance, PolicySpec } from '../../src/policies/types.js';

/** The `test` kind. */
export const testKind: PolicyFactory = {
  name: 'test',
  schema: {},
  create: () => ({
    instance: (spec: PolicySpec) => spec.config as PolicyInstance,
    status: () => null, ready: async () => {}, close: async () => {},
  }),
};

/** The registered kinds plus `test`. */
export function withTestKind(): PolicyFactory[] {
  return [...POLICY_FACTORIES, testKind];
}

/** A spec of the `test` kind running `instance`. */
export function testSpec(name: string, instance: PolicyInstance): PolicySpec {
  return { name, kind: 'test', config: instance, at: [] };
}
