import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig } from './index.js';
import { configError } from './config-test-support.js';

const dir = mkdtempSync(join(tmpdir(), 'turnpike-config-errors-'));
after(() => rmSync(dir, { recursive: true, force: true }));


const HEAD = `upstreams:
  users:
    targets: [ { url: "http://127.0.0.1:3001" } ]
  orders:
    targets: [ { url: "http://127.0.0.1:3002" } ]
routes:
`; // six lines: the first route starts on line 7

/** Loads YAML from a temp file and returns the reported issues as `line:col path: message`. */
function errorsOf(name: string, text: string): string[] {
  const file = join(dir, name);
  writeFileSync(file, text);
  try {
    loadConfig(file, {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    for (const issue of err.issues) assert.equal(issue.file, file);
    return err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

test('a path not starting with / on line 7 is reported at :7: in the user\'s terms', () => {
  const file = join(dir, 'badpath.yaml');
  writeFileSync(file, `${HEAD}  - match: { path: users/:id }\n    upstream: users\n`);
  assert.throws(() => loadConfig(file, {}), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepStrictEqual(err.issues, [{ file, line: 7, column: 20, path: 'routes[0].match.path', message: 'must start with /' }]);
    assert.equal(err.message, `invalid configuration (1 error):\n${file}:7:20: routes[0].match.path: must start with /`);
    return true;
  });
});

test('path pattern rules: * only last, params well named, no empty segments', () => {
  assert.deepStrictEqual(errorsOf('patterns.yaml', `${HEAD}  - { match: { path: /a/*/b }, upstream: users }
  - { match: { path: /a/:9x }, upstream: users }
  - { match: { path: /a/x:y }, upstream: users }
  - { match: { path: /a//b }, upstream: users }
  - { match: { path: "/a?b=1" }, upstream: users }
  - { match: { path: /a/:id/:id }, upstream: users }
`), [
    '7:22 routes[0].match.path: * is only allowed as the whole last segment (e.g. /files/*)',
    '8:22 routes[1].match.path: path params must be whole segments named like :id ([A-Za-z_][A-Za-z0-9_]*)',
    '9:22 routes[2].match.path: path params must be whole segments named like :id ([A-Za-z_][A-Za-z0-9_]*)',
    '10:22 routes[3].match.path: must not contain an empty segment (//)',
    '11:22 routes[4].match.path: must not contain ?, # or whitespace',
    '12:22 routes[5].match.path: duplicate param :id',
  ]);
});

test('an unknown field is rejected at its key, with a suggestion', () => {
  assert.deepStrictEqual(errorsOf('unknown.yaml', `server:
  prot: 8080
${HEAD.slice(0, -'routes:\n'.length)}    balanse: hash
routes:
  - match: { path: /, methd: [GET] }
    upstream: users
    timeout: { conect: 1s }
`), [
    '2:3 server.prot: unknown field (did you mean "port"?)',
    '8:5 upstreams.orders.balanse: unknown field (did you mean "balance"?)',
    '10:23 routes[0].match.methd: unknown field (did you mean "methods"?)',
    '12:16 routes[0].timeout.conect: unknown field (did you mean "connect"?)',
  ]);
  assert.deepStrictEqual(errorsOf('unknown-top.yaml', 'servers: {}\n'), [
    '1:1 servers: unknown field (did you mean "server"?)',
  ]);
});

test('upstream and split together are rejected; neither is rejected too', () => {
  assert.deepStrictEqual(errorsOf('both.yaml', `${HEAD}  - match: { path: /a }
    upstream: users
    split: [ { upstream: users, weight: 1 } ]
  - match: { path: /b }
    sticky: ip
`), [
    '8:15 routes[0].upstream: cannot be set together with split (use one of them)',
    '10:5 routes[1]: must set upstream, split or aggregate',
    '11:13 routes[1].sticky: is only allowed with split',
  ]);
});

test('unknown upstreams are rejected in upstream and in split', () => {
  assert.deepStrictEqual(errorsOf('unknown-up.yaml', `${HEAD}  - match: { path: /a }
    upstream: user
  - match: { path: /b }
    split:
      - { upstream: orders, weight: 1 }
      - { upstream: ordrs, weight: 1 }
`), [
    '8:15 routes[0].upstream: unknown upstream "user" (defined: users, orders)',
    '12:21 routes[1].split[1].upstream: unknown upstream "ordrs" (defined: users, orders)',
  ]);
});

test('rewrite may only use the params and * of the match path', () => {
  assert.deepStrictEqual(errorsOf('rewrite.yaml', `${HEAD}  - match: { path: /users/:id }
    upstream: users
    rewrite: /v1/users/:userId/*
  - match: { path: /files/* }
    upstream: users
    rewrite: v2/*
`), [
    '9:14 routes[0].rewrite: uses :userId, which match.path "/users/:id" does not define',
    '9:14 routes[0].rewrite: uses *, but match.path "/users/:id" has no *',
    '12:14 routes[1].rewrite: must start with /',
  ]);
});

test('duplicate names, duplicate routes and zero split weights are rejected', () => {
  assert.deepStrictEqual(errorsOf('dups.yaml', `${HEAD}  - name: a
    match: { path: /u/:id, methods: [GET, POST], headers: { X-A: "1" } }
    upstream: users
  - name: a
    match: { path: /u/:other, methods: [post, get], headers: { x-a: "1" } }
    upstream: orders
  - name: route-3
    match: { path: /u/:id, methods: [GET] }
    split: [ { upstream: users, weight: 0 }, { upstream: orders, weight: 0 } ]
  - match: { path: /u/:id, methods: [GET], host: api.example.com }
    upstream: users
`), [
    '10:11 routes[1].name: duplicate route name "a" (also routes[0])',
    '11:12 routes[1].match: duplicates routes[0] (same host, methods, path, headers and query)',
    '15:12 routes[2].split: weights must sum to more than 0',
    '16:5 routes[3].name: duplicate route name "route-3" (also routes[2])',
  ]);
});

test('upstream errors: origin urls, targets, hashOn, health check', () => {
  assert.deepStrictEqual(errorsOf('upstreams.yaml', `upstreams:
  users:
    targets:
      - { url: "http://127.0.0.1:3001/api" }
      - { url: "ftp://127.0.0.1" }
      - { url: "http://127.0.0.1:70000", weight: 0 }
    hashOn: ip
    healthCheck: { path: health, interval: 0, expectStatus: "399-200" }
  empty: { targets: [] }
  bad name: { targets: [ { url: "http://a" } ] }
`), [
    '4:16 upstreams.users.targets[0].url: must be an origin like http://127.0.0.1:3001 or h2c://127.0.0.1:50051 (no path)',
    '5:16 upstreams.users.targets[1].url: must be an origin like http://127.0.0.1:3001 or h2c://127.0.0.1:50051 (no path)',
    '6:16 upstreams.users.targets[2].url: port must be 1-65535',
    '6:50 upstreams.users.targets[2].weight: must be >= 1',
    '7:13 upstreams.users.hashOn: is only allowed with balance: hash',
    '8:26 upstreams.users.healthCheck.path: must start with /',
    '8:44 upstreams.users.healthCheck.interval: must be more than 0',
    '8:61 upstreams.users.healthCheck.expectStatus: range start 399 is above its end 200',
    '9:21 upstreams.empty.targets: must have at least 1 item',
    '10:3 upstreams["bad name"]: must be a name of letters, digits, _ . - (starting with a letter or digit)',
  ]);
});

test('server values: types, units and missing required fields', () => {
  assert.deepStrictEqual(errorsOf('server.yaml', `server:
  port: "8080"
  workers: 0
  maxBodySize: 10 megs
  gracePeriod: soon
  logLevel: loud
  trustedProxies: [10.0.0.0/33]
admin: 9901
routes:
  - upstream: users
  - match: {}
    upstream: users
`), [
    '2:9 server.port: must be an integer 1-65535',
    '3:12 server.workers: must be an integer >= 1 or "auto"',
    '4:16 server.maxBodySize: must be a size like 512kb, 10mb, 1gb or integer bytes',
    '5:16 server.gracePeriod: must be a duration like 250ms, 5s, 1m, 1h or integer milliseconds',
    '6:13 server.logLevel: must be one of: fatal, error, warn, info, debug, trace, silent',
    '7:20 server.trustedProxies[0]: must be an IP address or CIDR like 10.0.0.0/8',
    '8:8 admin: must be an object',
    '10:5 routes[0].match: is required',
    '10:15 routes[0].upstream: unknown upstream "users" (no upstreams are defined)',
    '11:12 routes[1].match.path: is required',
    '12:15 routes[1].upstream: unknown upstream "users" (no upstreams are defined)',
  ]);
});

test('YAML syntax errors report file:line:col', () => {
  assert.deepStrictEqual(errorsOf('syntax.yaml', 'server:\n  port: 8080\n  host: [a, b\nroutes: []\n'), [
    '4:1 : YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]',
  ]);
  assert.deepStrictEqual(errorsOf('dupkey.yaml', 'server:\n  port: 1\n  port: 2\n'), [
    '3:3 : YAML syntax error: Map keys must be unique',
  ]);
  assert.deepStrictEqual(errorsOf('multi.yaml', 'server: {}\n---\nadmin: {}\n'), [
    '2:1 : YAML syntax error: the file must hold a single YAML document (remove the ---)',
  ]);
  const err = configError(() => parseConfig('a: b: c', 'inline.yaml', {}));
  assert.match(err.message, /^invalid configuration \(\d+ errors?\):\ninline\.yaml:1:\d+: YAML syntax error: /);
});

test('a non-mapping document is rejected at the root', () => {
  assert.deepStrictEqual(errorsOf('list.yaml', '- a\n- b\n'), ['1:1 (root): must be an object']);
});
