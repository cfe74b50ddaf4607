import type { UpstreamConfig } from '../../config/types.js';
import type { Target } from '../target.js';
import { createHashBalancer } from './hash.js';
import { createLeastRequestBalancer } from './least-request.js';
import { createRoundRobinBalancer } from './round-robin.js';
import type { Balancer, BalancerFactory } from './types.js';

export type { Balancer, BalancerFactory } from './types.js';
export { hashString } from '../../lib/hash-string.js';

/** Balancer factories by the config's `balance` name. */
export const balancerFactories: ReadonlyMap<UpstreamConfig['balance'], BalancerFactory> = new Map<
  UpstreamConfig['balance'],
  BalancerFactory
>([
  ['round-robin', createRoundRobinBalancer],
  ['least-request', createLeastRequestBalancer],
  ['hash', createHashBalancer],
]);

/**
 * Build the balancer named in the config for a fixed target list.
 * @throws Error when the name is unknown (the config loader should have rejected it)
 */
export function createBalancer(name: UpstreamConfig['balance'], targets: readonly Target[]): Balancer {
  const factory = balancerFactories.get(name);
  if (factory === undefined) throw new Error(`unknown balancer "${String(name)}"`);
  return factory(targets);
}
