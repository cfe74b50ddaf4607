import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/index.js';
import { readDemoPortBase, rewriteDemoTargets } from './demo-services.js';

const YAML = `
upstreams:
  users: { targets: [ { url: "http://127.0.0.1:3001" }, { url: "http://localhost:3004" } ] }
  other: { targets: [ { url: "http://127.0.0.1:3005" }, { url: "http://10.0.0.1:3002" }, { url: "http://127.0.0.1:8080" } ] }
routes:
  - { name: r, match: { path: "/r" }, upstream: users }
`;

function targets(base: number): string[] {
  const config = rewriteDemoTargets(parseConfig(YAML, 'demo.yaml', {}), base);
  return Object.values(config.upstreams).flatMap((u) => u.targets.map((t) => t.url));
}

test('rewriteDemoTargets moves only loopback targets on 3001-3004, keeping each service offset', () => {
  assert.deepEqual(targets(3001), ['http://127.0.0.1:3001', 'http://localhost:3004', 'http://127.0.0.1:3005', 'http://10.0.0.1:3002', 'http://127.0.0.1:8080']);
  assert.deepEqual(targets(41000), ['http://127.0.0.1:41000', 'http://localhost:41003', 'http://127.0.0.1:3005', 'http://10.0.0.1:3002', 'http://127.0.0.1:8080']);
});

test('readDemoPortBase: unset or empty is 3001; anything but 1-65532 is one error line', () => {
  assert.deepEqual(readDemoPortBase({}), { base: 3001 });
  assert.deepEqual(readDemoPortBase({ TURNPIKE_DEMO_PORT_BASE: ' ' }), { base: 3001 });
  assert.deepEqual(readDemoPortBase({ TURNPIKE_DEMO_PORT_BASE: '4001' }), { base: 4001 });
  for (const bad of ['abc', '0', '65533', '-1', '3001.5']) {
    assert.deepEqual(readDemoPortBase({ TURNPIKE_DEMO_PORT_BASE: bad }), { error: `TURNPIKE_DEMO_PORT_BASE: must be an integer 1-65532, got ${JSON.stringify(bad)}` });
  }
});
