import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/load.js';
import { configError } from '../../config/config-test-support.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { RequestContext } from '../../ingress/request-context.js';
import type { Consumer } from '../consumer.js';
import { AclPolicy } from './acl-policy.js';
import type { AclConfig } from './schema.js';

function consumer(groups: string[], anonymous = false): Consumer {
  return { id: 'c', username: '', groups, credential: { kind: 'api-key', id: 'k' }, claims: null, ...(anonymous ? { anonymous } : {}) };
}

/** The verdict for a consumer with `groups` (null = no consumer) as `pass` or `<status> <code>`. */
function verdict(config: AclConfig, groups: string[] | null, anonymous = false): string {
  const ctx = new RequestContext(null as never);
  ctx.consumer = groups === null ? null : consumer(groups, anonymous);
  const v = new AclPolicy('partners-only', config).access(ctx);
  if (v === undefined) return 'pass';
  assert.ok(v instanceof GatewayError);
  assert.equal(ctx.responseHeaders, null, 'no challenge: acl knows no scheme');
  return `${v.status} ${v.code}`;
}

test('allow: a consumer needs one of the groups', () => {
  const allow = { allow: ['partners', 'staff'] };
  assert.equal(verdict(allow, ['partners']), 'pass');
  assert.equal(verdict(allow, ['x', 'staff']), 'pass');
  assert.equal(verdict(allow, ['internal']), '403 acl_forbidden');
  assert.equal(verdict(allow, []), '403 acl_forbidden');
  assert.equal(verdict(allow, ['Partners']), '403 acl_forbidden', 'group names are case-sensitive');
});

test('deny wins over allow; deny alone lets every other consumer through', () => {
  const both = { allow: ['partners'], deny: ['suspended'] };
  assert.equal(verdict(both, ['partners']), 'pass');
  assert.equal(verdict(both, ['partners', 'suspended']), '403 acl_forbidden');
  assert.equal(verdict(both, ['suspended', 'partners']), '403 acl_forbidden');
  const deny = { deny: ['suspended'] };
  assert.equal(verdict(deny, []), 'pass');
  assert.equal(verdict(deny, ['internal']), 'pass');
  assert.equal(verdict(deny, ['suspended']), '403 acl_forbidden');
});

test('no consumer is 401 unauthorized; an anonymous consumer is judged by its groups', () => {
  assert.equal(verdict({ allow: ['partners'] }, null), '401 unauthorized');
  assert.equal(verdict({ deny: ['x'] }, null), '401 unauthorized');
  assert.equal(verdict({ allow: ['public'] }, ['public'], true), 'pass');
  assert.equal(verdict({ allow: ['partners'] }, ['public'], true), '403 acl_forbidden');
});

test('config: lists validated, one needed, a group both allowed and denied named', () => {
  const ok = parseConfig('policies:\n  partners-only: { acl: { allow: [ partners ] } }\n', 'gw.yaml', {});
  assert.deepEqual(ok.policies['partners-only'], { name: 'partners-only', kind: 'acl', config: { allow: ['partners'] }, at: ['policies', 'partners-only', 'acl'] });
  const errors = configError(() => parseConfig(`policies:
  a: { acl: {} }
  b: { acl: { allow: [] } }
  c: { acl: { allow: [ x, x ], deny: [ "a b" ] } }
  d: { acl: { allow: [ partners, staff ], deny: [ staff ] } }
  e: { acl: { alow: [ x ] } }
`, 'gw.yaml', {})).message.split('\n').slice(1);
  assert.deepEqual(errors, [
    'gw.yaml:2:13: policies.a.acl: needs an allow list, a deny list, or both',
    'gw.yaml:3:22: policies.b.acl.allow: must not be empty (leave the list out instead)',
    'gw.yaml:4:22: policies.c.acl.allow: lists the same group twice',
    'gw.yaml:4:40: policies.c.acl.deny[0]: must be 1-128 visible ASCII characters without spaces or commas',
    'gw.yaml:5:34: policies.d.acl.allow[1]: "staff" is also in deny (deny wins, so this entry allows nothing)',
    'gw.yaml:6:13: policies.e.acl: needs an allow list, a deny list, or both',
    'gw.yaml:6:15: policies.e.acl.alow: unknown field (did you mean "allow"?)',
  ]);
});
