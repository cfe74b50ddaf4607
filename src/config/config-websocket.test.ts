import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './index.js';
import { configError } from './config-test-support.js';

const UPSTREAMS = `upstreams:
  up: { targets: [ { url: "http://127.0.0.1:3001" } ] }
  secure: { targets: [ { url: "https://api.internal:8443" } ] }
  rpc: { protocol: grpc, targets: [ { url: "h2c://127.0.0.1:50051" } ] }
  mixed: { targets: [ { url: "http://127.0.0.1:3002" }, { url: "h2c://127.0.0.1:3003" } ] }
`;

function routes(yaml: string): ReturnType<typeof parseConfig>['routes'] {
  return parseConfig(UPSTREAMS + 'routes:\n' + yaml, 'test.yaml', {}).routes;
}

function errorsOf(yaml: string): string[] {
  return configError(() => parseConfig(UPSTREAMS + 'routes:\n' + yaml, 'test.yaml', {})).issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
}

test('websocket: true gets the defaults (16mb, 120s); an object sets each; false and absent mean no websocket', () => {
  const r = routes(`  - { name: a, match: { path: /a }, upstream: up, websocket: true }
  - { name: b, match: { path: /b }, upstream: secure, websocket: { maxPayload: 64kb, idleTimeout: 30s } }
  - { name: c, match: { path: /c }, upstream: up, websocket: { idleTimeout: 0 } }
  - { name: d, match: { path: /d }, upstream: up, websocket: false }
  - { name: e, match: { path: /e }, upstream: up }
`);
  assert.deepEqual(r[0].websocket, { maxPayloadBytes: 16 * 1024 * 1024, idleTimeoutMs: 120_000 });
  assert.deepEqual(r[1].websocket, { maxPayloadBytes: 64 * 1024, idleTimeoutMs: 30_000 });
  assert.deepEqual(r[2].websocket, { maxPayloadBytes: 16 * 1024 * 1024, idleTimeoutMs: 0 });
  assert.equal(r[3].websocket, undefined);
  assert.equal(r[4].websocket, undefined);
  assert.equal('websocket' in r[4], false);
});

test('schema errors name file, line and field', () => {
  assert.deepEqual(errorsOf(`  - name: a
    match: { path: /a }
    upstream: up
    websocket: { maxPayload: lots, idleTimeout: soon, compress: true }
`), [
    '10:30 routes[0].websocket.maxPayload: must be a size like 512kb, 10mb, 1gb or integer bytes',
    '10:49 routes[0].websocket.idleTimeout: must be a duration like 250ms, 5s, 1m, 1h or integer milliseconds',
    '10:55 routes[0].websocket.compress: unknown field (expected one of: maxPayload, idleTimeout)',
  ]);
  assert.match(errorsOf(`  - { name: a, match: { path: /a }, upstream: up, websocket: yes please }\n`).join('\n'), /routes\[0\]\.websocket: /);
});

test('checks: GET must be allowed, sizes and timeouts in range, http upstreams only', () => {
  const errors = errorsOf(`  - { name: a, match: { path: /a, methods: [POST] }, upstream: up, websocket: true }
  - { name: b, match: { path: /b }, upstream: up, websocket: { maxPayload: 0 } }
  - { name: c, match: { path: /c }, upstream: up, websocket: { maxPayload: 2gb, idleTimeout: 500ms } }
  - { name: d, match: { path: /d }, split: [ { upstream: up, weight: 1 }, { upstream: rpc, weight: 1 } ], websocket: true }
  - { name: e, match: { path: /e }, upstream: mixed, websocket: true }
  - { name: f, match: { path: /f, methods: [get, post] }, upstream: up, websocket: true }
`).map((e) => e.replace(/^\d+:\d+ /, ''));
  assert.deepEqual(errors, [
    'routes[0].websocket: needs GET in match.methods (the WebSocket handshake is a GET request)',
    'routes[1].websocket.maxPayload: must be more than 0',
    'routes[2].websocket.maxPayload: must be at most 1gb',
    'routes[2].websocket.idleTimeout: must be 0 (never) or at least 1s',
    'routes[3].split[1].upstream: "rpc" is a grpc upstream: a websocket route needs an http upstream (http:// or https:// targets)',
    'routes[4].upstream: upstream "mixed" target 1 is h2c://: a websocket route needs http:// or https:// targets',
  ]);
});
