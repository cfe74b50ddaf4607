import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/index.js';
import { formatChain, formatChains } from './policy-listing.js';

test('routes and explain list each route\'s policies in run order', () => {
  const config = parseConfig(`
upstreams: { up: { targets: [ { url: "http://127.0.0.1:3001" } ] } }
rateLimits: [ { name: legacy, key: ip, limit: 5 } ]
policies:
  per-ip:   { rate-limit: { key: ip, limit: 100 } }
  web-cors: { cors: { origins: [ "https://app.example.com" ] } }
globalPolicies: [ per-ip ]
routes:
  - { name: orders, match: { path: /orders/* }, upstream: up, rateLimit: legacy, policies: [ web-cors, { rate-limit: { key: route, limit: 1 } } ] }
  - { name: x, match: { path: /x }, upstream: up }
`, 'l.yaml', {});
  assert.equal(formatChain(config, config.routes[0]), 'rate-limit:per-ip -> cors:web-cors -> rate-limit:orders#1 -> rate-limit:legacy');
  assert.equal(formatChain(config, config.routes[1]), 'rate-limit:per-ip');
  assert.equal(formatChains(config), [
    'Policy chains (run in this order; globalPolicies and globalRateLimits first):',
    '  orders (#0)  rate-limit:per-ip -> cors:web-cors -> rate-limit:orders#1 -> rate-limit:legacy',
    '  x (#1)       rate-limit:per-ip',
    '',
  ].join('\n'));
  const bare = parseConfig('upstreams: { up: { targets: [ { url: "http://127.0.0.1:3001" } ] } }\nroutes: [ { name: a, match: { path: /a }, upstream: up } ]\n', 'b.yaml', {});
  assert.equal(formatChain(bare, bare.routes[0]), '(none)');
});
