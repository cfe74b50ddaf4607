import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../errors/gateway-error.js';
import { RequestContext } from '../../ingress/request-context.js';
import type { PolicyEnv } from '../types.js';
import { ipRestrictionFactory } from './index.js';
import { buildBlockList, IpRestrictionPolicy } from './ip-restriction-policy.js';
import { parseIpRule, type IpRestrictionConfig } from './schema.js';

/** A context as the request handler leaves it before the access phase (no socket). */
function ctxFrom(clientIp: string): RequestContext {
  const ctx = new RequestContext(null as never);
  ctx.peerIp = clientIp;
  ctx.clientIp = clientIp;
  return ctx;
}

/** The verdict's problem code for `ip`, or 'pass'. */
function verdict(policy: IpRestrictionPolicy, ip: string): string {
  const v = policy.access(ctxFrom(ip));
  if (v === undefined) return 'pass';
  assert.ok(v instanceof GatewayError);
  return `${v.status} ${v.code}`;
}

function policy(config: IpRestrictionConfig): IpRestrictionPolicy {
  return new IpRestrictionPolicy('office', config);
}

const OFFICE: IpRestrictionConfig = { allow: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'], deny: ['10.9.0.0/16'] };

test('allow list: listed addresses and subnets pass, everything else is refused with 403 ip_forbidden', () => {
  const p = policy({ allow: ['10.0.0.0/8', '192.0.2.7'] });
  assert.equal(verdict(p, '10.0.0.0'), 'pass');
  assert.equal(verdict(p, '10.255.255.255'), 'pass');
  assert.equal(verdict(p, '192.0.2.7'), 'pass');
  assert.equal(verdict(p, '192.0.2.8'), '403 ip_forbidden');
  assert.equal(verdict(p, '11.0.0.1'), '403 ip_forbidden');
  assert.equal(verdict(p, '9.255.255.255'), '403 ip_forbidden');
  assert.equal(verdict(p, '::1'), '403 ip_forbidden', 'an IPv6 client is not in an IPv4-only allow list');
});

test('deny only: listed addresses are refused, every other address (IPv4 and IPv6) passes', () => {
  const p = policy({ deny: ['127.0.0.0/8', '2001:db8:bad::/48'] });
  assert.equal(verdict(p, '127.0.0.1'), '403 ip_forbidden');
  assert.equal(verdict(p, '127.200.1.1'), '403 ip_forbidden');
  assert.equal(verdict(p, '128.0.0.1'), 'pass');
  assert.equal(verdict(p, '2001:db8:bad:1::5'), '403 ip_forbidden');
  assert.equal(verdict(p, '2001:db8:bae::5'), 'pass');
  assert.equal(verdict(p, '::1'), 'pass');
});

test('deny wins over allow', () => {
  const p = policy(OFFICE);
  assert.equal(verdict(p, '10.1.2.3'), 'pass');
  assert.equal(verdict(p, '10.9.0.1'), '403 ip_forbidden');
  assert.equal(verdict(p, '10.9.255.255'), '403 ip_forbidden');
  assert.equal(verdict(p, '10.10.0.1'), 'pass');
  assert.equal(verdict(p, '172.16.0.1'), '403 ip_forbidden');
  const both = policy({ allow: ['192.0.2.7'], deny: ['192.0.2.0/24'] });
  assert.equal(verdict(both, '192.0.2.7'), '403 ip_forbidden', 'a single allowed address inside a denied subnet is still denied');
});

test('IPv6 rules: subnets, single addresses, any spelling of the client address', () => {
  const p = policy({ allow: ['2001:db8::/32', '::1'] });
  assert.equal(verdict(p, '2001:db8::1'), 'pass');
  assert.equal(verdict(p, '2001:DB8:0:0:0:0:0:1'), 'pass', 'upper case and long form');
  assert.equal(verdict(p, '2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'), 'pass');
  assert.equal(verdict(p, '2001:db9::1'), '403 ip_forbidden');
  assert.equal(verdict(p, '::1'), 'pass');
  assert.equal(verdict(p, '0:0:0:0:0:0:0:1'), 'pass');
  assert.equal(verdict(p, '::2'), '403 ip_forbidden');
  assert.equal(verdict(p, '127.0.0.1'), '403 ip_forbidden', 'IPv4 loopback is not ::1');
});

test('IPv4-mapped IPv6 clients match IPv4 rules (both spellings), and IPv4-mapped rules match IPv4 clients', () => {
  const p = policy(OFFICE);
  assert.equal(verdict(p, '::ffff:10.1.2.3'), 'pass');
  assert.equal(verdict(p, '::FFFF:10.1.2.3'), 'pass');
  assert.equal(verdict(p, '::ffff:a01:203'), 'pass', 'hex form of ::ffff:10.1.2.3');
  assert.equal(verdict(p, '0000:0000:0000:0000:0000:ffff:0a01:0203'), 'pass');
  assert.equal(verdict(p, '::ffff:10.9.0.1'), '403 ip_forbidden', 'a mapped address in a denied IPv4 subnet is denied');
  assert.equal(verdict(p, '::ffff:11.0.0.1'), '403 ip_forbidden');
  assert.equal(verdict(p, '::ffff:192.0.2.7'), 'pass', 'single IPv4 address rule');
  assert.equal(verdict(p, '::10.1.2.3'), '403 ip_forbidden', 'IPv4-compatible (not mapped) addresses are IPv6');
  const mappedRule = policy({ deny: ['::ffff:10.0.0.0/104'] });
  assert.equal(verdict(mappedRule, '10.1.2.3'), '403 ip_forbidden');
  assert.equal(verdict(mappedRule, '11.1.2.3'), 'pass');
});

test('0.0.0.0/0 covers every IPv4 client (mapped ones too) but no IPv6 client; ::/0 covers IPv6', () => {
  const v4 = policy({ deny: ['0.0.0.0/0'] });
  assert.equal(verdict(v4, '203.0.113.9'), '403 ip_forbidden');
  assert.equal(verdict(v4, '::ffff:203.0.113.9'), '403 ip_forbidden');
  assert.equal(verdict(v4, '2001:db8::1'), 'pass');
  const all = policy({ deny: ['0.0.0.0/0', '::/0'] });
  assert.equal(verdict(all, '2001:db8::1'), '403 ip_forbidden');
  assert.equal(verdict(all, '10.0.0.1'), '403 ip_forbidden');
});

test('a client address that does not parse is refused even by a deny-only policy (fail closed)', () => {
  const p = policy({ deny: ['10.9.0.0/16'] });
  for (const bad of ['', 'garbage', '10.1.2.3.4', '10.1.2', '::ffff:10.9.0.1:80', '1::2::3', '10.9.0.1 ']) {
    assert.equal(verdict(p, bad), '403 ip_forbidden', JSON.stringify(bad));
  }
  assert.equal(verdict(p, '10.10.0.1'), 'pass');
});

test('the checked address is ctx.clientIp (the trusted-proxy result), not the peer or a client header', () => {
  const p = policy({ allow: ['10.0.0.0/8'] });
  const viaProxy = ctxFrom('10.1.2.3');
  viaProxy.peerIp = '192.168.0.5';
  viaProxy.peerTrusted = true;
  assert.equal(p.access(viaProxy), undefined);
  const spoofed = ctxFrom('192.168.0.9');
  spoofed.headerNames.push('x-forwarded-for', 'x-real-ip');
  spoofed.headerValues.push('10.1.2.3', '10.1.2.3');
  assert.ok(p.access(spoofed) instanceof GatewayError);
});

test('status 404 answers the unmatched-route problem and drops headers earlier policies added; 403 keeps them', () => {
  const hidden = policy({ allow: ['10.0.0.0/8'], status: 404 });
  const ctx = ctxFrom('192.168.1.1');
  ctx.addResponseHeader('ratelimit', 'limit=100, remaining=99');
  const v = hidden.access(ctx);
  assert.ok(v instanceof GatewayError);
  assert.deepEqual([v.status, v.code, v.title, v.detail], [404, 'route_not_found', 'No route matches the request', undefined]);
  assert.equal(ctx.responseHeaders, null);
  assert.equal(verdict(hidden, '10.0.0.1'), 'pass');

  const plain = policy({ allow: ['10.0.0.0/8'] });
  const ctx2 = ctxFrom('192.168.1.1');
  ctx2.addResponseHeader('ratelimit', 'limit=100, remaining=99');
  const v2 = plain.access(ctx2);
  assert.ok(v2 instanceof GatewayError);
  assert.deepEqual([v2.status, v2.code, v2.title], [403, 'ip_forbidden', 'The client address is not allowed']);
  assert.deepEqual(ctx2.responseHeaders, ['ratelimit', 'limit=100, remaining=99']);
});

test('a refusal reuses one error object and leaves the request untouched', () => {
  const p = policy(OFFICE);
  const a = ctxFrom('8.8.8.8');
  const b = ctxFrom('10.9.9.9');
  const first = p.access(a);
  assert.ok(first instanceof GatewayError);
  assert.equal(p.access(b), first);
  assert.equal(first.extraMembers, '');
  assert.deepEqual([a.headerNames, a.responseHeaders], [[], null]);
});

test('the factory builds one named, synchronous, access-only instance per spec', async () => {
  const provider = ipRestrictionFactory.create(
    [{ name: 'office', kind: 'ip-restriction', config: OFFICE, at: ['policies', 'office', 'ip-restriction'] }],
    null as never, null as unknown as PolicyEnv,
  );
  const inst = provider.instance({ name: 'orders#0', kind: 'ip-restriction', config: { deny: ['::1'] }, at: ['routes', 0, 'policies', 0, 'ip-restriction'] });
  assert.equal(inst.name, 'ip-restriction:orders#0');
  assert.equal(typeof inst.access, 'function');
  assert.deepEqual([inst.requestBody, inst.responseHead, inst.responseBody, inst.onLog], [undefined, undefined, undefined, undefined]);
  assert.equal(inst.access!(ctxFrom('::1')) instanceof GatewayError, true);
  assert.equal(inst.access!(ctxFrom('::2')), undefined);
  assert.equal(provider.status(), null);
  await provider.ready();
  await provider.close();
});

test('building an instance from an unchecked config fails loudly instead of allowing everything', () => {
  assert.throws(() => policy({}), /needs an allow list, a deny list, or both/);
  assert.throws(() => policy({ allow: [] }), /needs an allow list/);
  assert.throws(() => policy({ allow: ['10.0.0.0/33'] }), /ip-restriction:office allow: "10.0.0.0\/33": not a CIDR: the prefix length must be 0-32 for IPv4/);
  assert.equal(buildBlockList(undefined, 'x'), null);
  assert.equal(buildBlockList([], 'x'), null);
});

test('parseIpRule accepts addresses and CIDRs of both families and says why anything else is not one', () => {
  assert.deepEqual(parseIpRule('10.0.0.0/8'), { address: '10.0.0.0', prefix: 8, family: 'ipv4' });
  assert.deepEqual(parseIpRule('192.0.2.7'), { address: '192.0.2.7', prefix: -1, family: 'ipv4' });
  assert.deepEqual(parseIpRule('0.0.0.0/0'), { address: '0.0.0.0', prefix: 0, family: 'ipv4' });
  assert.deepEqual(parseIpRule('2001:db8::/32'), { address: '2001:db8::', prefix: 32, family: 'ipv6' });
  assert.deepEqual(parseIpRule('::1'), { address: '::1', prefix: -1, family: 'ipv6' });
  assert.deepEqual(parseIpRule('::ffff:10.0.0.0/104'), { address: '::ffff:10.0.0.0', prefix: 104, family: 'ipv6' });
  const notCidr = 'not a CIDR or IP address (e.g. 10.0.0.0/8, 2001:db8::/32, 192.0.2.7)';
  for (const bad of ['10.0.0/8', '10.0.0.256', '010.0.0.1', 'localhost', '10.0.0.0 /8', '/8', '2001:db8:::/32', 'any']) {
    assert.equal(parseIpRule(bad), notCidr, bad);
  }
  assert.equal(parseIpRule('10.0.0.0/33'), 'not a CIDR: the prefix length must be 0-32 for IPv4');
  assert.equal(parseIpRule('10.0.0.0/'), 'not a CIDR: the prefix length must be 0-32 for IPv4');
  assert.equal(parseIpRule('10.0.0.0/-1'), 'not a CIDR: the prefix length must be 0-32 for IPv4');
  assert.equal(parseIpRule('10.0.0.0/8/8'), 'not a CIDR: the prefix length must be 0-32 for IPv4');
  assert.equal(parseIpRule('10.0.0.0/+8'), 'not a CIDR: the prefix length must be 0-32 for IPv4');
  assert.equal(parseIpRule('2001:db8::/129'), 'not a CIDR: the prefix length must be 0-128 for IPv6');
  assert.equal(parseIpRule('fe80::1%eth0'), 'not a CIDR: zone ids (%eth0) are not supported');
  assert.equal(parseIpRule('fe80::%eth0/64'), 'not a CIDR: zone ids (%eth0) are not supported');
});

test('verdicts stay right past the recent-verdict cache bound and on repeats', () => {
  const p = policy({ allow: ['10.0.0.0/8'], deny: ['10.9.0.0/16'] });
  for (let round = 0; round < 2; round++) {
    for (let i = 0; i < 10_000; i++) {
      const ip = `10.${i % 16}.${(i >> 4) & 255}.${i & 255}`;
      assert.equal(verdict(p, ip), i % 16 === 9 ? '403 ip_forbidden' : 'pass', ip);
    }
    assert.equal(verdict(p, '192.0.2.1'), '403 ip_forbidden');
  }
});
