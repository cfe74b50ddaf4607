import assert from 'node:assert/strict';
import { test } from 'node:test';
import { etcdEndpointsFromEnv, EtcdLocationError, formatEtcdUrl, parseEtcdEndpoints, parseEtcdUrl } from './etcd-endpoints.js';

test('parseEtcdUrl takes members and prefix from etcd:// URLs', () => {
  assert.deepEqual(parseEtcdUrl('etcd://127.0.0.1:2379/turnpike/prod'), { endpoints: ['http://127.0.0.1:2379'], prefix: '/turnpike/prod' });
  assert.deepEqual(parseEtcdUrl('etcd://a:1,b:2/p/'), { endpoints: ['http://a:1', 'http://b:2'], prefix: '/p' });
  assert.deepEqual(parseEtcdUrl('etcds://[::1]:2379'), { endpoints: ['https://[::1]:2379'], prefix: '' });
  for (const bad of ['http://a:1/p', 'etcd://a/p', 'etcd:///p', 'etcd://a:1,/p']) assert.throws(() => parseEtcdUrl(bad), EtcdLocationError, bad);
});

test('parseEtcdEndpoints reads comma-separated client URLs; a bare host:port is http', () => {
  assert.deepEqual(parseEtcdEndpoints('http://a:2379, https://b:2379,c:1'), ['http://a:2379', 'https://b:2379', 'http://c:1']);
  for (const bad of ['', 'ftp://a:1', 'http://a', 'http://a:1/x']) assert.throws(() => parseEtcdEndpoints(bad), EtcdLocationError, bad);
  assert.equal(etcdEndpointsFromEnv({}), null);
  assert.deepEqual(etcdEndpointsFromEnv({ TURNPIKE_ETCD_ENDPOINTS: 'http://x:1' }), ['http://x:1']);
});

test('formatEtcdUrl is the inverse of parseEtcdUrl', () => {
  for (const url of ['etcd://127.0.0.1:2379/turnpike/prod', 'etcd://a:1,b:2/p', 'etcds://h:1']) assert.equal(formatEtcdUrl(parseEtcdUrl(url)), url);
});
