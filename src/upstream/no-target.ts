import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';

/**
 * The 503 for an upstream `pick` found nothing in: `no_healthy_target` when
 * the upstream has no target at all (service discovery found none), else
 * `upstream_unavailable` (targets exist, none is healthy).
 * @param group the upstream's name and its current targets
 */
export function noTargetError(group: { readonly name: string; readonly targets: readonly unknown[] }): GatewayError {
  return group.targets.length === 0
    ? new GatewayError(ErrorCodes.NO_HEALTHY_TARGET, 'Upstream "' + group.name + '" has no target (service discovery found none)')
    : new GatewayError(ErrorCodes.UPSTREAM_UNAVAILABLE, 'No healthy target in upstream "' + group.name + '"');
}
