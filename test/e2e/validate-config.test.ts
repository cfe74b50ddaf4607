import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../../src/config/issues.js';
import { parseConfig } from '../../src/config/load.js';
import { importOpenApi } from '../../src/cli/import-openapi.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { nodeRequest, startUpstream } from './helpers.js';
import { writeValidateFixtures } from './validate-fixtures.js';

/** The one-line messages of the ConfigError `yaml` raises. */
function configErrors(file: string, yaml: string): string[] {
  try {
    parseConfig(yaml, file, {});
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message.split('\n').slice(1);
  }
  assert.fail('expected a ConfigError');
}

const HEAD = `upstreams:
  orders: { targets: [ { url: "http://127.0.0.1:9" } ] }
policies:
`;
const ROUTE = `routes:
  - { name: r, match: { path: /r }, upstream: orders, policies: [ p ] }
`;

describe('validate config errors name file, line and path', () => {
  let dir: string;
  let home = '';
  let file: string;
  before(() => {
    dir = writeValidateFixtures();
    // why: files named in the config resolve against the working directory (as TLS files and protos do).
    home = process.cwd();
    process.chdir(dir);
    file = join(dir, 'gateway.yaml');
    writeFileSync(join(dir, 'schemas', 'bad-ref.json'), JSON.stringify({ type: 'object', properties: { a: { $ref: 'nowhere.json' } } }));
    writeFileSync(join(dir, 'schemas', 'bad-format.json'), JSON.stringify({ type: 'object', properties: { when: { type: 'string', format: 'date-tyme' } } }));
  });
  after(() => {
    process.chdir(home);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a missing schema file', () => {
    const errs = configErrors(file, HEAD + '  p:\n    validate:\n      body: { schema: schemas/missing.json }\n' + ROUTE);
    assert.equal(errs.length, 1, errs.join('\n'));
    assert.match(errs[0], new RegExp(`^${file.replaceAll('/', '\\/')}:6:\\d+: policies\\.p\\.validate\\.body\\.schema: .*missing\\.json \\(ENOENT\\)`));
  });

  test('a $ref to a missing file, with the pointer of the $ref', () => {
    const errs = configErrors(file, HEAD + '  p:\n    validate:\n      body: { schema: schemas/bad-ref.json }\n' + ROUTE);
    assert.equal(errs.length, 1, errs.join('\n'));
    assert.match(errs[0], /:6:\d+: policies\.p\.validate\.body\.schema: .*bad-ref\.json at \/properties\/a\/\$ref: \$ref "nowhere\.json": cannot read .*nowhere\.json \(ENOENT\)/);
  });

  test('an unknown format, in a file and inline', () => {
    const inFile = configErrors(file, HEAD + '  p:\n    validate:\n      query: { schema: schemas/bad-format.json }\n' + ROUTE);
    assert.match(inFile[0], /:6:\d+: policies\.p\.validate\.query\.schema: .*bad-format\.json at \/properties\/when\/format: unknown format "date-tyme"/);
    const inline = configErrors(file, HEAD + '  p:\n    validate:\n      query:\n        schema:\n          type: object\n          properties:\n            when: { type: string, format: emale }\n' + ROUTE);
    assert.equal(inline.length, 1, inline.join('\n'));
    assert.match(inline[0], /:10:\d+: policies\.p\.validate\.query\.schema\.properties\.when\.format: unknown format "emale"/);
  });

  test('an invalid schema, a bad OpenAPI document and an unknown operationId', () => {
    const bad = configErrors(file, HEAD + '  p:\n    validate:\n      body: { schema: { type: integr } }\n' + ROUTE);
    assert.match(bad[0], /:6:\d+: policies\.p\.validate\.body\.schema: schema is invalid/);
    writeFileSync(join(dir, 'specs', 'not-openapi.yaml'), 'swagger: "2.0"\npaths: {}\n');
    const doc = configErrors(file, HEAD + '  p:\n    validate: { openapi: specs/not-openapi.yaml }\n' + ROUTE);
    assert.match(doc[0], /:5:\d+: policies\.p\.validate\.openapi: .*not an OpenAPI 3\.0 or 3\.1 document/);
    const op = configErrors(file, HEAD + '  p:\n    validate: { openapi: specs/petstore.yaml, operation: deletePet }\n' + ROUTE);
    assert.match(op[0], /policies\.p\.validate\.operation: .*no operation with operationId "deletePet"/);
    const mixed = configErrors(file, HEAD + '  p:\n    validate: { openapi: specs/petstore.yaml, body: { schema: {} } }\n' + ROUTE);
    assert.match(mixed[0], /policies\.p\.validate\.body: cannot be combined with openapi/);
  });

  test('import-openapi output parses back into routes a gateway loads and serves', async () => {
    const text = importOpenApi(join(dir, 'specs', 'petstore.yaml'), { upstream: 'orders', specPath: 'specs/petstore.yaml' });
    const routes = parseYaml(text) as Array<{ name: string; match: { path: string; methods: string[] }; policies: unknown[] }>;
    assert.deepEqual(routes.map((r) => [r.name, r.match.path, r.match.methods.join()]), [
      ['list-pets', '/pets', 'GET'], ['create-pets', '/pets', 'POST'], ['show-pet-by-id', '/pets/:petId', 'GET'],
    ]);
    assert.deepEqual(routes[2].policies, [{ validate: { openapi: 'specs/petstore.yaml', operation: 'showPetById' } }]);
    const up = await startUpstream('orders');
    const indented = text.split('\n').map((l) => (l === '' ? l : '  ' + l)).join('\n');
    const config = parseConfig(`upstreams:\n  orders: { targets: [ { url: "${up.url}" } ] }\nroutes:\n${indented}`, file, {});
    assert.equal(config.routes.length, 3);
    config.server.host = '127.0.0.1';
    config.server.port = 0;
    const gw = await startWorker(config);
    try {
      assert.equal((await nodeRequest(gw.port, '/pets/7', {})).status, 200);
      const bad = await nodeRequest(gw.port, '/pets/seven', {});
      assert.equal(bad.status, 400);
      assert.equal((JSON.parse(bad.body) as { code: string }).code, 'validation_failed');
      const post = await nodeRequest(gw.port, '/pets', { 'content-type': 'application/json' }, 'POST', '{"name":""}');
      assert.equal(post.status, 400, post.body);
    } finally {
      await gw.drain(1000);
      await up.close();
    }
  });
});
