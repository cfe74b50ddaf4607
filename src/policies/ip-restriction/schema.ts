/**
 * The ip-restriction kind's config: its JSON Schema fragment, the parse of
 * one `allow`/`deny` entry (shared by the load-time check and the instance
 * build), and the checks the schema cannot express.
 */
import { isIP } from 'node:net';
import type { ConfigPath } from '../../config/issues.js';
import type { IssueSink } from '../types.js';

type Obj = Record<string, unknown>;

/** The kind's config as written (schema- and check-valid). */
export interface IpRestrictionConfig {
  readonly allow?: readonly string[];
  readonly deny?: readonly string[];
  /** 403 (default): refuse with `ip_forbidden`; 404: answer like an unmatched route. */
  readonly status?: 403 | 404;
}

const entryList = (what: string): Obj => ({
  type: 'array',
  description: `${what} IPv4/IPv6 addresses or CIDRs (10.0.0.0/8, 2001:db8::/32, 192.0.2.7). IPv4 rules also match IPv4-mapped IPv6 clients (::ffff:10.1.2.3).`,
  minItems: 1,
  uniqueItems: true,
  'x-message': {
    minItems: 'must not be empty (leave the list out instead)',
    uniqueItems: 'lists the same entry twice',
  },
  items: { type: 'string', minLength: 1 },
});

/** JSON Schema (2020-12) of `{ ip-restriction: <this> }`. */
export const ipRestrictionSchema: Readonly<Obj> = {
  type: 'object',
  description: 'Allows or refuses requests by client address (after server.trustedProxies). Deny wins over allow; with an allow list, every address not in it is refused; with only a deny list, every other address is allowed.',
  additionalProperties: false,
  properties: {
    allow: entryList('Addresses allowed (everything else is refused):'),
    deny: entryList('Addresses refused (wins over allow):'),
    status: {
      type: 'integer',
      enum: [403, 404],
      description: 'Status of a refusal: 403 (default, problem code ip_forbidden) or 404 (the same answer as an unmatched route, to hide the route).',
      'x-message': 'must be 403 (refuse, the default) or 404 (hide the route)',
    },
  },
  // why: "at least one of allow/deny" without anyOf (one clear message, see schema-check.ts).
  if: { not: { required: ['allow'] } },
  then: { required: ['deny'], 'x-message': 'needs an allow list, a deny list, or both' },
};

/** One parsed `allow`/`deny` entry, in BlockList terms. */
export interface IpRule {
  readonly address: string;
  /** Prefix length, or -1 for a single address. */
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/**
 * Parses `10.0.0.0/8`, `2001:db8::/32`, `192.0.2.7` or `::1`. Returns the
 * rule, or the message of why the entry is not one.
 */
export function parseIpRule(text: string): IpRule | string {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  // why: BlockList silently drops a zone id (fe80::1%eth0 becomes fe80::1); say so instead.
  if (address.includes('%')) return 'not a CIDR: zone ids (%eth0) are not supported';
  const v = isIP(address);
  if (v === 0) return 'not a CIDR or IP address (e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.7)';
  const family = v === 4 ? 'ipv4' : 'ipv6';
  if (slash < 0) return { address, prefix: -1, family };
  const bits = text.slice(slash + 1);
  const max = v === 4 ? 32 : 128;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `not a CIDR: the prefix length must be 0-${max} for IPv${v}`;
  return { address, prefix: Number(bits), family };
}

/** Every entry parses; the same entry is not both allowed and denied. */
export function checkIpRestriction(config: unknown, at: ConfigPath, issue: IssueSink): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return;
  const o = config as Obj;
  const denied = new Set<string>();
  for (const key of ['deny', 'allow'] as const) {
    const list = o[key];
    if (!Array.isArray(list)) continue;
    list.forEach((entry: unknown, i: number) => {
      if (typeof entry !== 'string' || entry === '') return; // the schema reported it
      const rule = parseIpRule(entry);
      if (typeof rule === 'string') issue([...at, key, i], rule);
      else if (key === 'deny') denied.add(entry);
      else if (denied.has(entry)) issue([...at, key, i], `"${entry}" is also in deny (deny wins, so this entry allows nothing)`);
    });
  }
}
