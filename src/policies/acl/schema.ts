/**
 * The acl kind's config: its JSON Schema fragment and the checks the schema
 * cannot express.
 */
import type { ConfigPath } from '../../config/issues.js';
import type { IssueSink } from '../types.js';

type Obj = Record<string, unknown>;

/** The kind's config as written (schema- and check-valid). */
export interface AclConfig {
  /** Groups allowed (a consumer needs one of them). */
  readonly allow?: readonly string[];
  /** Groups refused (wins over allow). */
  readonly deny?: readonly string[];
}

const groupList = (what: string): Obj => ({
  type: 'array',
  description: what,
  minItems: 1,
  uniqueItems: true,
  'x-message': {
    minItems: 'must not be empty (leave the list out instead)',
    uniqueItems: 'lists the same group twice',
  },
  items: { $ref: '#/$defs/groupName' },
});

/** JSON Schema (2020-12) of `{ acl: <this> }`. */
export const aclSchema: Readonly<Obj> = {
  type: 'object',
  description: 'Allows or refuses the consumer (set by an identity policy earlier in the chain, e.g. key-auth) by its groups: 403 acl_forbidden when refused, 401 unauthorized when no consumer was identified. Deny wins over allow; with an allow list, a consumer needs one of its groups.',
  additionalProperties: false,
  properties: {
    allow: groupList('Groups allowed: a consumer in none of them is refused.'),
    deny: groupList('Groups refused (wins over allow).'),
  },
  // why: "at least one of allow/deny" without anyOf (one clear message, see schema-check.ts).
  if: { not: { required: ['allow'] } },
  then: { required: ['deny'], 'x-message': 'needs an allow list, a deny list, or both' },
};

/** A group is not both allowed and denied. Groups need not be configured on a consumer: tokens may carry them. */
export function checkAcl(config: unknown, at: ConfigPath, issue: IssueSink): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return;
  const { allow, deny } = config as Obj;
  if (!Array.isArray(allow) || !Array.isArray(deny)) return;
  const denied = new Set(deny);
  allow.forEach((g: unknown, i: number) => {
    if (typeof g === 'string' && denied.has(g)) issue([...at, 'allow', i], `"${g}" is also in deny (deny wins, so this entry allows nothing)`);
  });
}
