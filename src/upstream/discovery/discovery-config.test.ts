import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/index.js';
import { configError } from '../../config/config-test-support.js';
import { clusterEndpointsFromEnv } from '../../lib/etcd-endpoints.js';

/** The issues of a config as `line:col path: message`. */
function errorsOf(yaml: string, env: NodeJS.ProcessEnv = {}): string[] {
  return configError(() => parseConfig(yaml, 'test.yaml', env)).issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
}

function up(body: string): string {
  return `upstreams:\n  users:\n${body}`;
}

test('etcd discovery: endpoints from the config, else TURNPIKE_ETCD_ENDPOINTS, else the config source\'s cluster', () => {
  const own = parseConfig(up('    discovery: { etcd: { prefix: /services/users/, endpoints: ["http://10.0.0.1:2379"] } }\n'), 'test.yaml', {});
  assert.deepStrictEqual(own.upstreams.users.discovery, { etcd: { prefix: '/services/users/', endpoints: ['http://10.0.0.1:2379'] }, dns: null });
  assert.deepStrictEqual(own.upstreams.users.targets, []);
  assert.notEqual(own.upstreams.users.tls, null, 'discovered targets may be https://: TLS defaults are ready');
  const yaml = up('    discovery: { etcd: { prefix: /services/users/ } }\n');
  const fromEnv = parseConfig(yaml, 'test.yaml', { TURNPIKE_ETCD_ENDPOINTS: 'http://a:2379, http://b:2379' });
  assert.deepStrictEqual(fromEnv.upstreams.users.discovery?.etcd?.endpoints, ['http://a:2379', 'http://b:2379']);
  const fromSource = parseConfig(yaml, 'test.yaml', { TURNPIKE_CONFIG_SOURCE: 'etcd://10.1.1.1:2379,10.1.1.2:2380/turnpike/prod' });
  assert.deepStrictEqual(fromSource.upstreams.users.discovery?.etcd?.endpoints, ['http://10.1.1.1:2379', 'http://10.1.1.2:2380']);
});

test('etcd discovery with no endpoints known anywhere is a config error naming the field', () => {
  assert.deepStrictEqual(errorsOf(up('    discovery: { etcd: { prefix: /services/users/ } }\n')), [
    '3:24 upstreams.users.discovery.etcd: no etcd endpoints are known: set discovery.etcd.endpoints, env TURNPIKE_ETCD_ENDPOINTS, or TURNPIKE_CONFIG_SOURCE=etcd://host:port/prefix',
  ]);
  assert.match(errorsOf(up('    discovery: { etcd: { prefix: /s/ } }\n'), { TURNPIKE_ETCD_ENDPOINTS: 'tcp://x' })[0], /TURNPIKE_ETCD_ENDPOINTS: "tcp:\/\/x" is not an etcd client URL/);
});

test('targets or discovery: one is required, both is an error naming discovery', () => {
  assert.deepStrictEqual(errorsOf(up('    balance: round-robin\n')), [
    '3:5 upstreams.users.targets: is required (or discovery: { etcd: ... } or { dns: ... } to find the targets at run time)',
  ]);
  assert.deepStrictEqual(errorsOf(up('    targets: [ { url: "http://127.0.0.1:3001" } ]\n    discovery: { dns: { name: users.internal, port: 3001 } }\n')), [
    '4:16 upstreams.users.discovery: cannot be combined with targets: give targets or discovery, not both',
  ]);
  assert.equal(errorsOf(up('    discovery: { etcd: { prefix: /a/ }, dns: { name: x, port: 1 } }\n'))[0],
    '3:16 upstreams.users.discovery: must have exactly one of etcd and dns');
});

test('dns discovery: defaults, SRV for _names, port required for A/AAAA, interval at least 1s, servers from env', () => {
  const a = parseConfig(up('    discovery: { dns: { name: users.internal, port: 3001 } }\n'), 'test.yaml', {});
  assert.deepStrictEqual(a.upstreams.users.discovery?.dns, {
    name: 'users.internal', type: 'auto', port: 3001, intervalMs: 10_000, scheme: 'http', servers: [],
  });
  const srv = parseConfig(up('    discovery: { dns: { name: _users._tcp.internal, interval: 2s, scheme: https } }\n'), 'test.yaml',
    { TURNPIKE_DNS_SERVERS: '127.0.0.1:5353' });
  assert.deepStrictEqual(srv.upstreams.users.discovery?.dns, {
    name: '_users._tcp.internal', type: 'srv', port: null, intervalMs: 2000, scheme: 'https', servers: ['127.0.0.1:5353'],
  });
  assert.deepStrictEqual(errorsOf(up('    discovery: { dns: { name: users.internal, interval: 500ms, servers: [ "dns.example:53" ] } }\n')), [
    '3:23 upstreams.users.discovery.dns.port: is required for A/AAAA records (SRV records carry their own port)',
    '3:57 upstreams.users.discovery.dns.interval: must be at least 1s',
    '3:75 upstreams.users.discovery.dns.servers[0]: must be an IP address with an optional port, like 127.0.0.1:5353',
  ]);
  assert.deepStrictEqual(errorsOf(up('    discovery: { dns: { name: users.internal, type: aaaa } }\n')), [
    '3:23 upstreams.users.discovery.dns.port: is required for AAAA records (SRV records carry their own port)',
  ]);
});

test('the cluster discovery uses without endpoints: TURNPIKE_ETCD_ENDPOINTS, else the config source, else none', () => {
  assert.deepStrictEqual(clusterEndpointsFromEnv({ TURNPIKE_ETCD_ENDPOINTS: 'http://a:1, b:2', TURNPIKE_CONFIG_SOURCE: 'etcd://c:3/p' }), ['http://a:1', 'http://b:2']);
  assert.deepStrictEqual(clusterEndpointsFromEnv({ TURNPIKE_CONFIG_SOURCE: 'etcd://127.0.0.1:2379,h:2380/turnpike/prod' }), ['http://127.0.0.1:2379', 'http://h:2380']);
  assert.equal(clusterEndpointsFromEnv({ TURNPIKE_CONFIG_SOURCE: 'file' }), null);
  assert.equal(clusterEndpointsFromEnv({}), null);
  assert.throws(() => clusterEndpointsFromEnv({ TURNPIKE_CONFIG_SOURCE: 'etcd:///x' }), /TURNPIKE_CONFIG_SOURCE/);
  assert.throws(() => clusterEndpointsFromEnv({ TURNPIKE_ETCD_ENDPOINTS: 'ftp://x:1' }), /TURNPIKE_ETCD_ENDPOINTS/);
});
