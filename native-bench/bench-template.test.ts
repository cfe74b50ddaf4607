import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderConfig, renderTemplate } from './bench-template.js';

test('renderTemplate fills every placeholder and rejects unknown ones', () => {
  assert.equal(renderTemplate('listen {{HOST}}:{{PORT}}; # {{PORT}}', { HOST: '127.0.0.1', PORT: 8080 }), 'listen 127.0.0.1:8080; # 8080');
  assert.throws(() => renderTemplate('x {{MISSING}}', {}), /\{\{MISSING\}\} has no value/);
});

test('every shipped config template renders with the variables the benchmark passes', () => {
  const vars = { RUN_DIR: '/tmp/x', UPSTREAM_PORT: 1, PROXY_PORT: 2, ADMIN_PORT: 3, TINY_BODY: '{}' };
  for (const name of ['nginx-upstream.conf', 'nginx-proxy.conf', 'haproxy-proxy.cfg', 'turnpike-proxy.yaml']) {
    const text = renderConfig(name, vars);
    assert.ok(!text.includes('{{'), name);
  }
  const nginx = renderConfig('nginx-proxy.conf', vars);
  assert.match(nginx, /keepalive 64;/);
  assert.match(nginx, /proxy_set_header Connection "";/);
  assert.match(nginx, /server 127\.0\.0\.1:1;/);
});
