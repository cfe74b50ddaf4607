import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/load.js';
import { ConfigError } from '../../config/issues.js';

const HEAD = `upstreams:
  orders: { targets: [ { url: "http://127.0.0.1:3001" } ] }
`; // two lines: what follows starts on line 3

/** The issues of an invalid config as `line:col path: message`. */
function errorsOf(text: string): string[] {
  try {
    parseConfig(text, 'gw.yaml', {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    for (const i of err.issues) assert.equal(i.file, 'gw.yaml');
    return err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
  }
  assert.fail('expected a ConfigError');
}

test('the contract example loads; the config is kept as written; a named policy may read any param', () => {
  const c = parseConfig(`${HEAD}policies:
  stamp: { headers: { response: { set: { x-served-by: turnpike, x-version: 2, x-any: "\${param.any}" } } } }
routes:
  - name: orders
    match: { path: /orders/:id }
    upstream: orders
    policies:
      - stamp
      - headers:
          request:  { set: { x-client-ip: "\${client_ip}", x-route: "\${route}", x-order: "\${param.id}" }, remove: [ x-debug ] }
          response: { set: { x-served-by: turnpike }, remove: [ server, x-powered-by ] }
`, 'gw.yaml', {});
  const specs = c.routes[0].policies;
  assert.deepEqual(specs.map((s) => [s.name, s.kind]), [['stamp', 'headers'], ['orders#1', 'headers']]);
  assert.deepEqual(specs[1].config, {
    request: { set: { 'x-client-ip': '${client_ip}', 'x-route': '${route}', 'x-order': '${param.id}' }, remove: ['x-debug'] },
    response: { set: { 'x-served-by': 'turnpike' }, remove: ['server', 'x-powered-by'] },
  });
});

test('an unknown variable is reported at its file:line:col and path', () => {
  assert.deepEqual(errorsOf(`${HEAD}policies:
  tag:
    headers:
      request:
        set:
          x-who: "user \${consumer.email}"
`), ['8:18 policies.tag.headers.request.set.x-who: unknown variable "${consumer.email}" (known: client_ip, route, request_id, method, path, param.NAME, query.NAME, header.NAME, consumer.id, consumer.username)']);
});

test('malformed templates, bad names and schema mistakes are all reported with their path', () => {
  const got = errorsOf(`${HEAD}policies:
  a:
    headers:
      request:
        set: { x-a: "\${route", "bad name": x, x-n: [ 1 ] }
        add: { x-b: "\${}" }
        remove: [ "x:y" ]
        rename: { x-c: "not a token" }
        replace: { x-d: e }
  b: { headers: {} }
  c: { headers: { response: {} } }
`);
  assert.deepEqual(got, [
    '7:21 policies.a.headers.request.set.x-a: unclosed "${" at character 1 (write $${ for a literal "${")',
    '7:32 policies.a.headers.request.set["bad name"]: is not a valid header name (RFC 9110 token: letters, digits and !#$%&\'*+.^_`|~-)',
    '7:52 policies.a.headers.request.set.x-n: must be a string (a header value template)',
    '8:21 policies.a.headers.request.add.x-b: empty variable "${}" (known: client_ip, route, request_id, method, path, param.NAME, query.NAME, header.NAME, consumer.id, consumer.username)',
    '9:19 policies.a.headers.request.remove[0]: is not a valid header name (RFC 9110 token: letters, digits and !#$%&\'*+.^_`|~-)',
    '10:24 policies.a.headers.request.rename.x-c: is not a valid header name (RFC 9110 token: letters, digits and !#$%&\'*+.^_`|~-)',
    '11:9 policies.a.headers.request.replace: unknown field (expected one of: set, add, remove, rename)',
    '12:17 policies.b.headers: must hold a request or a response block',
    '13:29 policies.c.headers.response: must hold at least one of set, add, remove, rename',
  ]);
});

test('headers the gateway owns are refused on the side where it owns them', () => {
  const got = errorsOf(`${HEAD}policies:
  own:
    headers:
      request:
        set: { Host: api.internal, x-request-id: "\${request_id}" }
        add: { x-forwarded-for: 1.2.3.4 }
        remove: [ content-length, transfer-encoding, connection ]
        rename: { x-forwarded-proto: x-proto }
      response:
        set: { date: today, server: turnpike }
        remove: [ transfer-encoding, x-request-id, x-powered-by ]
`);
  const want = [
    '7:22 policies.own.headers.request.set.Host: host is set by the gateway (the target\'s host, or the client\'s with the route\'s preserveHost: true); use preserveHost or the upstream target URL instead; it cannot be edited on the request side',
    '7:50 policies.own.headers.request.set.x-request-id: x-request-id is set by the gateway on every upstream request (the client\'s if it sent one, else a generated id); it cannot be edited on the request side',
    '8:33 policies.own.headers.request.add.x-forwarded-for: x-forwarded-for is set by the gateway on every upstream request (see server.trustedProxies); it cannot be edited on the request side',
    '9:19 policies.own.headers.request.remove[0]: content-length is a framing or hop-by-hop header the gateway manages itself; it cannot be edited on the request side',
    '9:35 policies.own.headers.request.remove[1]: transfer-encoding is a framing or hop-by-hop header the gateway manages itself; it cannot be edited on the request side',
    '9:54 policies.own.headers.request.remove[2]: connection is a framing or hop-by-hop header the gateway manages itself; it cannot be edited on the request side',
    '10:38 policies.own.headers.request.rename.x-forwarded-proto: x-forwarded-proto is set by the gateway on every upstream request (see server.trustedProxies); it cannot be edited on the request side',
    '12:22 policies.own.headers.response.set.date: date is written by the server itself on every response; it cannot be edited on the response side',
    '13:19 policies.own.headers.response.remove[0]: transfer-encoding is a framing or hop-by-hop header the gateway manages itself; it cannot be edited on the response side',
    '13:38 policies.own.headers.response.remove[1]: x-request-id is written by the gateway on every response (the upstream\'s own, else the request\'s id); it cannot be edited on the response side',
  ];
  assert.deepEqual(got, want);
});

test('contradicting edits and params the route does not have are refused', () => {
  const got = errorsOf(`${HEAD}routes:
  - match: { path: /orders/:id }
    upstream: orders
    policies:
      - headers:
          request:
            remove: [ x-a, X-A ]
            rename: { x-a: x-b, x-c: x-c, x-d: x-e, x-e: x-f, x-g: x-f }
            set: { x-p: "\${param.id}", x-q: "\${param.other}", X-P: again, x-w: "\${param.*}" }
  - match: { path: /files/* }
    upstream: orders
    policies: [ { headers: { response: { add: { x-file: "\${param.*}" } } } } ]
`);
  assert.deepEqual(got, [
    '9:28 routes[0].policies[0].headers.request.remove[1]: duplicate header name "x-a" (names are case-insensitive)',
    '10:28 routes[0].policies[0].headers.request.rename.x-a: "x-a" is removed before renames apply (remove → rename → set → add), so this rename never happens',
    '10:38 routes[0].policies[0].headers.request.rename.x-c: renames "x-c" to itself',
    '10:48 routes[0].policies[0].headers.request.rename.x-d: "x-e" is itself renamed; chained renames are not allowed (rename "x-d" to the final name)',
    '10:68 routes[0].policies[0].headers.request.rename.x-g: two renames to "x-f"; each header can be the target of one rename',
    '11:45 routes[0].policies[0].headers.request.set.x-q: "${param.other}": the route\'s path has no param :other',
    '11:68 routes[0].policies[0].headers.request.set.X-P: duplicate header name "x-p" (names are case-insensitive)',
    '11:80 routes[0].policies[0].headers.request.set.x-w: "${param.*}": the route\'s path has no wildcard *',
  ]);
});
