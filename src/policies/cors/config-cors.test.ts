import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/index.js';
import { configError } from '../../config/config-test-support.js';

const HEAD = `upstreams:
  up: { targets: [ { url: "http://127.0.0.1:3001" } ] }
routes:
  - { match: { path: /a/* }, upstream: up, policies: [ web ] }
policies:
`; // five lines: the first policy is on line 6

/** The issues of an invalid config as `line:col path: message`. */
function issues(policies: string): string[] {
  const err = configError(() => parseConfig(HEAD + policies, 'gw.yaml', {}));
  for (const i of err.issues) assert.equal(i.file, 'gw.yaml');
  return err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
}

test('a cors policy as in the config contract loads, its config kept as written', () => {
  const c = parseConfig(`${HEAD}  web: { cors: { origins: [ "https://app.example.com" ], methods: [GET, POST], headers: [content-type, authorization], credentials: true, maxAge: 10m } }
`, 'gw.yaml', {});
  assert.equal(c.policies.web.kind, 'cors');
  assert.deepEqual(c.policies.web.config, {
    origins: ['https://app.example.com'], methods: ['GET', 'POST'], headers: ['content-type', 'authorization'], credentials: true, maxAge: '10m',
  });
  assert.deepEqual(c.routes[0].policies.map((s) => s.name), ['web']);
  const one = parseConfig(`${HEAD}  web: { cors: { origins: "*", exposeHeaders: [ x-request-id ], maxAge: 600s } }\n`, 'gw.yaml', {});
  assert.equal((one.policies.web.config as { origins: string }).origins, '*');
});

test('"*" with credentials: true is an error at the origin', () => {
  assert.deepEqual(issues(`  web:
    cors:
      origins: [ "*" ]
      credentials: true
`), ['8:18 policies.web.cors.origins[0]: "*" cannot be used with credentials: true (browsers refuse it); list the allowed origins']);
});

test('malformed origins are reported at their own line and index', () => {
  assert.deepEqual(issues(`  web:
    cors:
      origins:
        - https://app.example.com
        - https://app.example.com/
        - app.example.com
        - "https://*.com"
        - https://a.*.example.com
        - HTTPS://APP.example.com:443
        - null
`), [
    '10:11 policies.web.cors.origins[1]: must not have a path, query or fragment (an origin is scheme://host[:port], e.g. https://app.example.com or https://*.example.com)',
    '11:11 policies.web.cors.origins[2]: is not an origin (an origin is scheme://host[:port], e.g. https://app.example.com or https://*.example.com)',
    '12:11 policies.web.cors.origins[3]: wildcard must be followed by at least two labels (https://*.example.com, not https://*.com)',
    '13:11 policies.web.cors.origins[4]: * is only allowed as the whole first label (https://*.example.com), or alone for any origin',
    '14:11 policies.web.cors.origins[5]: duplicate origin (same as origins[0])',
    '15:11 policies.web.cors.origins[6]: must be a string (quote "null" to allow the null origin)',
  ]);
});

test('schema errors: unknown field, missing origins, bad method/header names, bad maxAge, wildcards with credentials', () => {
  assert.deepEqual(issues(`  web: { cors: { origin: [ "https://a.test" ] } }
`), [
    '6:16 policies.web.cors.origins: is required',
    '6:18 policies.web.cors.origin: unknown field (did you mean "origins"?)',
  ]);
  assert.deepEqual(issues(`  web:
    cors:
      origins: [ "https://a.test", "*" ]
      methods: [ "GET POST" ]
      headers: [ "x:y" ]
      exposeHeaders: [ "*" ]
      credentials: true
      maxAge: 1500ms
`), [
    '8:36 policies.web.cors.origins[1]: "*" cannot be used with credentials: true (browsers refuse it); list the allowed origins',
    '8:36 policies.web.cors.origins[1]: "*" already allows every origin but null; list it alone (or with "null")',
    '9:18 policies.web.cors.methods[0]: must be a method name like GET or PUT',
    '10:18 policies.web.cors.headers[0]: must be a header name like content-type',
    '11:24 policies.web.cors.exposeHeaders[0]: "*" is not a wildcard for credentialed requests (credentials: true); list the names',
    '13:15 policies.web.cors.maxAge: must be whole seconds, e.g. 600s or 10m (a bare number is milliseconds)',
  ]);
  assert.deepEqual(issues(`  web: { cors: { origins: [], maxAge: soon, credentials: yes } }
`), [
    '6:27 policies.web.cors.origins: must have at least 1 item',
    '6:39 policies.web.cors.maxAge: must be a duration like 250ms, 5s, 1m, 1h or integer milliseconds',
    '6:58 policies.web.cors.credentials: must be true or false',
  ]);
});

test('an inline cors policy on a route is checked with the route path', () => {
  const err = configError(() => parseConfig(`upstreams:
  up: { targets: [ { url: "http://127.0.0.1:3001" } ] }
routes:
  - match: { path: /a/* }
    upstream: up
    policies:
      - cors: { origins: [ "https://ok.test", "https://bad.test/" ] }
`, 'gw.yaml', {}));
  assert.deepEqual(err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`), [
    '7:47 routes[0].policies[0].cors.origins[1]: must not have a path, query or fragment (an origin is scheme://host[:port], e.g. https://app.example.com or https://*.example.com)',
  ]);
});
