import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { RequestContext } from '../../ingress/request-context.js';
import { createLogger } from '../../observability/logger.js';
import { WorkerCommands } from '../../process/worker-commands.js';
import { parseConfig } from '../../config/load.js';
import { compileChain } from '../chain.js';
import { BODY_INVALID, BODY_NOT_JSON, BODY_OK, checkBody, checkHeaders, checkParams, checkQuery, isJsonType } from './part-checks.js';
import { convertSchema } from './openapi-document.js';
import { compileTemplate, decodeParam, matchTemplate, toRoutePattern } from './path-template.js';
import { SchemaCompiler } from './schema-loader.js';
import { MAX_ECHO, MAX_ERRORS, ValidationErrors, cut } from './validation-errors.js';
import { validateFactory } from './index.js';
import { OperationTable, type OpenApiOperation } from './openapi-operations.js';

const compiler = new SchemaCompiler();
const query = (schema: Record<string, unknown>) => ({ validate: compiler.compileInline(schema, 'file:///tmp/', 'test', true), delimiters: null });

test('query coercion: integer, number, boolean, arrays from repeated params, one value into an array', () => {
  const q = query({
    type: 'object',
    properties: { n: { type: 'integer', maximum: 100 }, x: { type: 'number' }, b: { type: 'boolean' }, tags: { type: 'array', items: { type: 'integer' } }, s: { type: 'string' } },
    additionalProperties: false,
  });
  for (const ok of ['n=5&x=1.5&b=true&tags=1&tags=2&s=007', 'tags=3', 'b=false', '', 'n=1e1']) {
    assert.equal(checkQuery(q, ok, new ValidationErrors()), true, ok);
  }
  const errors = new ValidationErrors();
  assert.equal(checkQuery(q, 'n=5.5&x=abc&b=yes&tags=1&tags=two&extra=1&n2=', errors), false);
  const out = JSON.parse(errors.toProblem().extraMembers.slice(',"errors":'.length)) as Array<{ path: string; message: string }>;
  assert.deepEqual(out.map((e) => e.path).sort(), ['/query/b', '/query/extra', '/query/n', '/query/n2', '/query/tags/1', '/query/x']);
  const twice = new ValidationErrors();
  assert.equal(checkQuery(q, 'n=1&n=2', twice), false, 'a repeated scalar param is an array, not an integer');
  const proto = new ValidationErrors();
  assert.equal(checkQuery(q, '__proto__=1&constructor=2', proto), false);
  assert.equal(proto.total, 2, 'odd names are plain keys');
});

test('non-exploded OpenAPI arrays split on their delimiter', () => {
  const q = { ...query({ type: 'object', properties: { ids: { type: 'array', items: { type: 'integer' }, maxItems: 3 } } }), delimiters: new Map([['ids', ',']]) };
  assert.equal(checkQuery(q, 'ids=1,2,3', new ValidationErrors()), true);
  assert.equal(checkQuery(q, 'ids=1,2,3,4', new ValidationErrors()), false);
  assert.equal(checkQuery(q, 'ids=1,x', new ValidationErrors()), false);
});

test('path params and headers coerce too; required headers', () => {
  const fn = compiler.compileInline({ type: 'object', properties: { id: { type: 'integer', minimum: 1 } } }, 'file:///tmp/', 'test', true);
  assert.equal(checkParams(fn, ['id'], ['42'], new ValidationErrors()), true);
  const e = new ValidationErrors();
  assert.equal(checkParams(fn, ['id'], ['0'], e), false);
  assert.match(e.items[0], /"path":"\/params\/id","message":"must be >= 1"/);
  const ctx = new RequestContext(null as never);
  ctx.headerNames.push('x-a', 'x-n', 'x-n');
  ctx.headerValues.push('1', '2', '3');
  const h = { required: ['x-a', 'x-b'], validate: compiler.compileInline({ type: 'object', properties: { 'x-n': { type: 'string', pattern: '^\\d+, \\d+$' } } }, 'file:///tmp/', 't', true), names: null };
  const he = new ValidationErrors();
  assert.equal(checkHeaders(h, ctx, he), false);
  assert.deepEqual(he.items, ['{"path":"/headers/x-b","message":"is required"}'], 'repeated lines are one comma list');
});

test('error shape: at most 20 errors, at most 200 bytes of input echoed', () => {
  const fn = compiler.compileInline({ type: 'object', additionalProperties: false, patternProperties: { '^k': { type: 'integer' } } }, 'file:///tmp/', 't', false);
  const huge = 'k' + 'x'.repeat(10 * 1024);
  const data: Record<string, unknown> = { [huge]: 'not a number', ['z'.repeat(10 * 1024)]: 1 };
  for (let i = 0; i < 50; i++) data['k' + i] = 'no';
  assert.equal(fn(data), false);
  const e = new ValidationErrors();
  e.addAjv('/body', fn.errors);
  const problem = e.toProblem();
  const text = problem.extraMembers;
  const list = JSON.parse(text.slice(',"errors":'.length)) as Array<{ path: string; message: string }>;
  assert.equal(list.length, MAX_ERRORS);
  assert.equal(e.total, 52);
  assert.match(problem.detail!, /52 validation errors \(the first 20 are listed\)/);
  let echoed = 0;
  for (const item of list) echoed += Buffer.byteLength(item.path.replace(/^\/body/, '').replace(/…$/, ''));
  assert.ok(echoed <= MAX_ECHO, `${echoed} bytes of input echoed`);
  assert.ok(!text.includes('x'.repeat(MAX_ECHO + 1)));
  assert.ok(!text.includes('z'.repeat(MAX_ECHO + 1)));
  assert.ok(!text.includes('not a number'), 'values are never echoed');
  assert.equal(problem.status, 400);
  assert.equal(problem.code, 'validation_failed');
});

test('cut keeps UTF-8 characters whole', () => {
  assert.equal(cut('ééé', 5), 'éé');
  assert.equal(cut('abc', 10), 'abc');
  assert.equal(Buffer.byteLength(cut('€'.repeat(100), 200)), 198);
});

test('path templates: literals, params, partial segments, trailing slash; no regex per request', () => {
  const out: string[] = [];
  const t = compileTemplate('/pets/{petId}/photos/{file}.jpg');
  assert.deepEqual(t.params, ['petId', 'file']);
  assert.equal(matchTemplate(t, '/pets/7/photos/a%20b.jpg', 0, out), true);
  assert.deepEqual(out, ['7', 'a%20b']);
  assert.equal(decodeParam(out[1]), 'a b');
  assert.equal(decodeParam('%E0%A4%A'), null);
  out.length = 0;
  assert.equal(matchTemplate(t, '/pets/7/photos/.jpg', 0, out), false, 'a param is never empty');
  assert.equal(matchTemplate(compileTemplate('/pets'), '/pets/', 0, []), true);
  assert.equal(matchTemplate(compileTemplate('/pets'), '/pets/1', 0, []), false);
  out.length = 0;
  assert.equal(matchTemplate(compileTemplate('/pets/{id}'), '/v1/pets/3', 3, out), true);
  assert.deepEqual(out, ['3']);
  assert.equal(matchTemplate(compileTemplate('/'), '/', 0, []), true);
  assert.throws(() => compileTemplate('/a/{b'), /exactly one/);
  assert.equal(toRoutePattern(compileTemplate('/pets/{petId}')), '/pets/:petId');
  assert.equal(toRoutePattern(t), null);
});

test('operation table: literal templates win, HEAD falls back to GET, server base paths', () => {
  const op = (method: string, path: string): OpenApiOperation => ({ method, template: compileTemplate(path), operationId: method + path, check: { id: path, params: null, query: null, headers: null, body: null, responses: null } });
  const table = new OperationTable([op('GET', '/pets/{id}'), op('GET', '/pets/mine'), op('POST', '/pets')], ['/api/v1']);
  const out: string[] = [];
  assert.equal(table.match('GET', '/pets/mine', out)?.operationId, 'GET/pets/mine');
  assert.equal(table.match('HEAD', '/pets/9', out)?.operationId, 'GET/pets/{id}');
  assert.deepEqual(out, ['9']);
  assert.equal(table.match('GET', '/api/v1/pets/9', out)?.operationId, 'GET/pets/{id}');
  assert.equal(table.match('DELETE', '/pets/9', out), null);
  assert.equal(table.match('GET', '/other', out), null);
});

test('OpenAPI 3.0 schemas become 2020-12: nullable, boolean exclusive bounds, internal refs', () => {
  const s = convertSchema({
    type: 'object',
    properties: {
      tag: { type: 'string', nullable: true },
      kind: { enum: ['a', 'b'], nullable: true },
      w: { type: 'number', minimum: 0, exclusiveMinimum: true, maximum: 10, exclusiveMaximum: false },
      nullable: { $ref: '#/components/schemas/X' },
    },
    allOf: [{ nullable: false, type: 'object' }],
  }, true, 'file:///d.yaml');
  assert.deepEqual(s, {
    type: 'object',
    properties: {
      tag: { type: ['string', 'null'] },
      kind: { enum: ['a', 'b', null] },
      w: { type: 'number', exclusiveMinimum: 0, maximum: 10 },
      nullable: { $ref: 'file:///d.yaml#/components/schemas/X' },
    },
    allOf: [{ type: 'object' }],
  });
  assert.deepEqual(convertSchema({ type: 'string', nullable: true }, false, 'u'), { type: 'string', nullable: true }, '3.1 is left alone');
});

test('JSON content types', () => {
  for (const t of ['application/json', 'Application/JSON; charset=utf-8', 'application/problem+json']) assert.equal(isJsonType(t), true, t);
  for (const t of ['', 'text/json', 'application/jsonx', 'text/plain']) assert.equal(isJsonType(t), false, t);
});

test('phases are opt-in: a query/headers-only policy never buffers the body, only monitor adds responseHead', () => {
  const config = parseConfig(`
upstreams: { u: { targets: [ { url: "http://127.0.0.1:9" } ] } }
policies:
  q: { validate: { query: { schema: { type: object } }, headers: { required: [ x-a ] } } }
  b: { validate: { body: { schema: { type: object } } } }
routes:
  - { name: r1, match: { path: /a }, upstream: u, policies: [ q ] }
  - { name: r2, match: { path: /b }, upstream: u, policies: [ b ] }
`, 'unit.yaml', {});
  const env = { workers: 1, logger: createLogger('silent', {}), registry: new Registry(), now: Date.now, commands: new WorkerCommands() };
  const provider = validateFactory.create(config.routes.flatMap((r) => r.policies), config, env);
  const q = compileChain([provider.instance(config.routes[0].policies[0])]);
  const b = compileChain([provider.instance(config.routes[1].policies[0])]);
  assert.equal(q.requestBody, null);
  assert.equal(q.responseHead, null);
  assert.notEqual(q.access, null);
  assert.notEqual(b.requestBody, null);
});

test('a body nested deeper than the stack allows is a 400, not a failure', () => {
  const fn = compiler.compileInline({ $defs: { n: { type: 'array', items: { $ref: '#/$defs/n' } } }, $ref: '#/$defs/n' }, 'file:///tmp/', 't', false);
  const depth = 200_000;
  const body = Buffer.from('['.repeat(depth) + ']'.repeat(depth));
  const e = new ValidationErrors();
  const r = checkBody({ validate: fn, required: true }, body, e);
  assert.equal(r, BODY_INVALID, 'JSON.parse takes it; ajv runs out of stack');
  assert.deepEqual(e.items, ['{"path":"/body","message":"is nested too deeply to validate"}']);
  assert.equal(checkBody({ validate: fn, required: true }, Buffer.from('[[]'), new ValidationErrors()), BODY_NOT_JSON);
  const shallow = Buffer.from('['.repeat(50) + ']'.repeat(50));
  assert.equal(checkBody({ validate: fn, required: true }, shallow, new ValidationErrors()), BODY_OK);
});
