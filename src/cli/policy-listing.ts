/**
 * Policy chains as the CLI prints them (`turnpike routes`, `turnpike
 * explain`): pure, from the config alone (no provider is built, so no Redis
 * is contacted).
 */
import type { GatewayConfig, RouteConfig } from '../config/types.js';
import { instanceName, routeSpecs } from '../policies/chain.js';

/** `kind:name → kind:name` for one route, or `(none)`. */
export function formatChain(config: GatewayConfig, route: RouteConfig): string {
  const specs = routeSpecs(config, route);
  return specs.length === 0 ? '(none)' : specs.map(instanceName).join(' -> ');
}

/** One line per route with its chain, in config order. */
export function formatChains(config: GatewayConfig): string {
  const width = Math.max(4, ...config.routes.map((r) => r.name.length + String(r.index).length + 4));
  const lines = ['Policy chains (run in this order; globalPolicies and globalRateLimits first):'];
  for (const r of config.routes) lines.push(`  ${`${r.name} (#${r.index})`.padEnd(width)}  ${formatChain(config, r)}`);
  return lines.join('\n') + '\n';
}
