import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/load.js';
import { configError } from '../../config/config-test-support.js';

const HEAD = `upstreams:
  orders:
    targets: [ { url: "http://127.0.0.1:3002" } ]
`; // three lines: what follows starts on line 4

const ROUTE = `routes:
  - name: orders
    match: { path: /orders/* }
    upstream: orders
    policies: [ office ]
`;

/** The reported issues as `file:line:col: path: message` lines. */
function errorsOf(yaml: string): string[] {
  return configError(() => parseConfig(yaml, 'gw.yaml', {})).message.split('\n').slice(1);
}

test('the contract example loads, and the spec keeps the config exactly as written', () => {
  const config = parseConfig(`${HEAD}policies:
  office: { ip-restriction: { allow: [ 10.0.0.0/8, "2001:db8::/32" ], deny: [ 10.9.0.0/16 ] } }
  hidden: { ip-restriction: { deny: [ "::1", 127.0.0.1 ], status: 404 } }
routes:
  - name: orders
    match: { path: /orders/* }
    upstream: orders
    policies:
      - office
      - hidden
      - ip-restriction: { allow: [ 192.0.2.7 ] }
`, 'gw.yaml', {});
  assert.deepEqual(config.policies.office, {
    name: 'office', kind: 'ip-restriction', at: ['policies', 'office', 'ip-restriction'],
    config: { allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.9.0.0/16'] },
  });
  assert.deepEqual(config.policies.hidden.config, { deny: ['::1', '127.0.0.1'], status: 404 });
  assert.deepEqual(config.routes[0].policies.map((s) => [s.name, s.kind]), [
    ['office', 'ip-restriction'], ['hidden', 'ip-restriction'], ['orders#2', 'ip-restriction'],
  ]);
  assert.deepEqual(config.routes[0].policies[2].config, { allow: ['192.0.2.7'] });
});

test('an entry that is not an address or CIDR is reported at its own line and path', () => {
  assert.deepEqual(errorsOf(`${HEAD}policies:
  office:
    ip-restriction:
      allow:
        - 10.0.0.0/8
        - "2001:db8::/32"
        - 10.0.0/8
        - 10.0.0.0/33
        - "2001:db8::/129"
        - fe80::1%eth0
        - 300.1.1.1
      deny: [ 10.9.0.0/16, office-lan ]
${ROUTE}`), [
    'gw.yaml:10:11: policies.office.ip-restriction.allow[2]: not a CIDR or IP address (e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.7)',
    'gw.yaml:11:11: policies.office.ip-restriction.allow[3]: not a CIDR: the prefix length must be 0-32 for IPv4',
    'gw.yaml:12:11: policies.office.ip-restriction.allow[4]: not a CIDR: the prefix length must be 0-128 for IPv6',
    'gw.yaml:13:11: policies.office.ip-restriction.allow[5]: not a CIDR: zone ids (%eth0) are not supported',
    'gw.yaml:14:11: policies.office.ip-restriction.allow[6]: not a CIDR or IP address (e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.7)',
    'gw.yaml:15:28: policies.office.ip-restriction.deny[1]: not a CIDR or IP address (e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.7)',
  ]);
});

test('an inline route policy reports its route path', () => {
  assert.deepEqual(errorsOf(`${HEAD}routes:
  - name: orders
    match: { path: /orders/* }
    upstream: orders
    policies:
      - ip-restriction: { deny: [ 10.0.0.0/8, 10.1.2.3/40 ] }
`), [
    'gw.yaml:9:47: routes[0].policies[0].ip-restriction.deny[1]: not a CIDR: the prefix length must be 0-32 for IPv4',
  ]);
});

test('at least one non-empty list is required', () => {
  assert.deepEqual(errorsOf(`${HEAD}policies:
  none:  { ip-restriction: {} }
  only-status: { ip-restriction: { status: 404 } }
  empty-allow: { ip-restriction: { allow: [] } }
  empty-both:
    ip-restriction:
      allow: []
      deny: []
  null-body: { ip-restriction: }
`), [
    'gw.yaml:5:28: policies.none.ip-restriction: needs an allow list, a deny list, or both',
    'gw.yaml:6:34: policies.only-status.ip-restriction: needs an allow list, a deny list, or both',
    'gw.yaml:7:43: policies.empty-allow.ip-restriction.allow: must not be empty (leave the list out instead)',
    'gw.yaml:10:14: policies.empty-both.ip-restriction.allow: must not be empty (leave the list out instead)',
    'gw.yaml:11:13: policies.empty-both.ip-restriction.deny: must not be empty (leave the list out instead)',
    'gw.yaml:12:16: policies.null-body.ip-restriction: must be an object',
  ]);
});

test('status, entry types, duplicates, unknown fields and an entry both allowed and denied', () => {
  assert.deepEqual(errorsOf(`${HEAD}policies:
  office:
    ip-restriction:
      allow: [ 10.0.0.0/8, 10.9.0.0/16, 10.0.0.0/8 ]
      deny: [ 10.9.0.0/16, 42 ]
      status: 401
  typo: { ip-restriction: { allwo: [ 10.0.0.0/8 ], deny: [ "::1" ] } }
`), [
    'gw.yaml:7:14: policies.office.ip-restriction.allow: lists the same entry twice',
    'gw.yaml:7:28: policies.office.ip-restriction.allow[1]: "10.9.0.0/16" is also in deny (deny wins, so this entry allows nothing)',
    'gw.yaml:8:28: policies.office.ip-restriction.deny[1]: must be a string',
    'gw.yaml:9:15: policies.office.ip-restriction.status: must be 403 (refuse, the default) or 404 (hide the route)',
    'gw.yaml:10:29: policies.typo.ip-restriction.allwo: unknown field (did you mean "allow"?)',
  ]);
});
