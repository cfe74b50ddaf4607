import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/load.js';
import { ConfigError } from '../../config/issues.js';
import { transformSettings } from './index.js';
import type { TransformConfig } from './schema.js';

const HEAD = `upstreams:
  users: { targets: [ { url: "http://127.0.0.1:3001" } ] }
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

test('the contract example loads and compiles', () => {
  const c = parseConfig(`${HEAD}policies:
  public-user:
    transform:
      request:  { json: { set: { source: gateway, "meta.client": "\${header.x-client}" }, remove: [ internalFlag ], rename: { userName: username } } }
      response: { json: { allow: [ id, name, email, "address.city" ], remove: [ "password*" ], set: { apiVersion: 2 } }, status: { 201: 200 } }
routes:
  - { name: users, match: { path: /users/* }, upstream: users, policies: [ public-user ] }
`, 'gw.yaml', {});
  const spec = c.policies['public-user'];
  assert.equal(spec.kind, 'transform');
  const s = transformSettings('public-user', spec.config as TransformConfig);
  assert.equal(s.maxBody, 1024 * 1024);
  assert.equal(s.failOversize, false);
  assert.equal(s.status![201], 200);
  assert.ok(s.request !== null && s.response !== null);
  const t = transformSettings('x', { maxBody: '64kb', oversize: 'fail', response: { status: { 404: 200 } } });
  assert.deepEqual([t.maxBody, t.failOversize, t.request, t.response], [65536, true, null, null]);
});

test('bad paths, templates, renames, sets and status maps name file, line and field', () => {
  const errors = errorsOf(`${HEAD}policies:
  p:
    transform:
      maxBody: 0
      request:
        json:
          allow: [ "a..b", "items[0]" ]
          rename: { "items[].a": "b", x: x, y: z, w: z, "k[]": j }
          set: { "meta": 1, "meta.client": "\${header.x-client}", bad: "\${nope}", "tags[]": 1, "p*": 2 }
      response: { json: { remove: [ "" ] }, status: { 204: 200, 500: 500 } }
routes:
  - { match: { path: /u/* }, upstream: users, policies: [ p ] }
`);
  assert.deepEqual(errors, [
    '6:16 policies.p.transform.maxBody: must be more than 0 bytes',
    '9:20 policies.p.transform.request.json.allow[0]: "a..b": empty step (a leading, trailing or double dot)',
    '9:28 policies.p.transform.request.json.allow[1]: "items[0]": only "[]" (every element) may follow a field name; indexes are not supported',
    '10:34 policies.p.transform.request.json.rename["items[].a"]: "items[].a" → "b": a rename inside arrays ([]) must keep the field in the same object (e.g. items[].a: items[].b)',
    '10:42 policies.p.transform.request.json.rename.x: renames "x" to itself',
    '10:54 policies.p.transform.request.json.rename.w: "y" is renamed to "z" too; each path can be the target of one rename',
    '10:64 policies.p.transform.request.json.rename["k[]"]: "k[]": must end with a field name, not "[]"',
    '11:44 policies.p.transform.request.json.set["meta.client"]: overlaps "meta" (one is inside the other); set the whole value once',
    '11:71 policies.p.transform.request.json.set.bad: unknown variable "${nope}" (known: client_ip, route, request_id, method, path, param.NAME, query.NAME, header.NAME, consumer.id, consumer.username)',
    '11:92 policies.p.transform.request.json.set["tags[]"]: "tags[]": must end with a field name, not "[]"',
    '11:101 policies.p.transform.request.json.set["p*"]: "p*": "*" globs are allowed in allow and remove paths only',
    '12:37 policies.p.transform.response.json.remove[0]: must not be empty',
    '12:60 policies.p.transform.response.status["204"]: 204 and 304 have no body: they cannot be mapped from or to',
    '12:70 policies.p.transform.response.status["500"]: maps a status to itself',
  ]);
});

test('schema errors: unknown fields, empty blocks, bad oversize, bad statuses', () => {
  const errors = errorsOf(`${HEAD}policies:
  p: { transform: { oversize: drop, response: { json: {} , status: { 99: 200, 201: 700 } } } }
  q: { transform: { request: { allow: [ a ] } } }
  r: { transform: {} }
routes:
  - { match: { path: /u/* }, upstream: users, policies: [ p, q, r ] }
`);
  assert.ok(errors.some((e) => e.includes('policies.p.transform.oversize: must be pass or fail')), errors.join('\n'));
  assert.ok(errors.some((e) => e.includes('policies.p.transform.response.json: must hold at least one of allow, remove, rename, set')), errors.join('\n'));
  assert.ok(errors.some((e) => e.includes('policies.p.transform.response.status') && e.includes('200 to 599')), errors.join('\n'));
  assert.ok(errors.some((e) => e.includes('policies.q.transform.request')), errors.join('\n'));
  assert.ok(errors.some((e) => e.includes('policies.r.transform: must hold a request or a response block')), errors.join('\n'));
});

test('an inline policy may only read the path params of its route', () => {
  const errors = errorsOf(`${HEAD}routes:
  - match: { path: /users/:id }
    upstream: users
    policies:
      - transform: { response: { json: { set: { self: "/users/\${param.id}", bad: "\${param.nope}" } } } }
`);
  assert.deepEqual(errors, ['7:82 routes[0].policies[0].transform.response.json.set.bad: "${param.nope}": the route\'s path has no param :nope']);
});
