/**
 * The provider of a kind whose instances hold no connections, timers or
 * metrics (cors, headers, ip-restriction): each spec's instance is built
 * once, when the provider is created.
 */
import type { PolicyInstance, PolicyProvider, PolicySpec } from './types.js';

/** A provider that builds one instance per spec with `build` and has nothing to wait for or release. */
export function statelessProvider(specs: readonly PolicySpec[], build: (spec: PolicySpec) => PolicyInstance): PolicyProvider {
  const byName = new Map<string, PolicyInstance>();
  for (const s of specs) byName.set(s.name, build(s));
  return {
    instance: (spec) => byName.get(spec.name) ?? build(spec),
    status: () => null,
    ready: () => Promise.resolve(),
    close: () => Promise.resolve(),
  };
}
