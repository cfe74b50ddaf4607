/**
 * One configured acl on the request path: checks the groups of the consumer
 * an identity policy set (`ctx.consumer`) against allow and deny sets.
 */
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../ingress/request-context.js';
import type { PolicyInstance, Verdict } from '../types.js';
import type { AclConfig } from './schema.js';

// why: one shared error object per outcome; a refusal allocates nothing.
const ERR_FORBIDDEN = new GatewayError(ErrorCodes.ACL_FORBIDDEN);
const ERR_NO_CONSUMER = new GatewayError(ErrorCodes.UNAUTHORIZED,
  'No consumer was identified: this route needs an identity policy (e.g. key-auth) before its acl');

/** An acl instance: synchronous access phase only. */
export class AclPolicy implements PolicyInstance {
  readonly name: string;
  private readonly allow: ReadonlySet<string> | null;
  private readonly deny: ReadonlySet<string> | null;

  /**
   * @param policyName the spec's name (`partners-only`, `orders#1`).
   * @param config the kind's config (schema- and check-valid).
   */
  constructor(policyName: string, config: AclConfig) {
    this.name = 'acl:' + policyName;
    this.allow = config.allow !== undefined && config.allow.length > 0 ? new Set(config.allow) : null;
    this.deny = config.deny !== undefined && config.deny.length > 0 ? new Set(config.deny) : null;
    if (this.allow === null && this.deny === null) throw new Error(`${this.name}: needs an allow list, a deny list, or both`);
  }

  /**
   * No consumer: 401 unauthorized (Kong's answer; an acl cannot identify
   * anyone). A consumer in a denied group, or in none of the allowed ones
   * (when there is an allow list): 403 acl_forbidden. An anonymous consumer
   * is checked by its configured groups like any other.
   */
  access(ctx: RequestContext): Verdict {
    const consumer = ctx.consumer;
    if (consumer === null) return ERR_NO_CONSUMER;
    const groups = consumer.groups;
    let allowed = this.allow === null;
    // why: a consumer has a few groups; one pass with Set lookups, no allocation.
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i];
      if (this.deny !== null && this.deny.has(g)) return ERR_FORBIDDEN;
      if (!allowed && this.allow!.has(g)) allowed = true;
    }
    return allowed ? undefined : ERR_FORBIDDEN;
  }
}
