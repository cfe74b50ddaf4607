import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { parseConfig } from './index.js';
import { configError } from './config-test-support.js';

const PROTOS = resolve('config/protos');
const LIBRARY = join(PROTOS, 'example/library/v1/library.proto');

test('a grpc entry adds one route per (method, router path) of its bindings, after the configured routes', () => {
  const c = parseConfig(`
upstreams:
  web: { targets: [ { url: "http://127.0.0.1:3001" } ] }
  library: { targets: [ { url: "h2c://127.0.0.1:50051" } ], protocol: grpc }
routes:
  - { name: site, match: { path: /site/* }, upstream: web }
grpc:
  - upstream: library
    protos: [ "${LIBRARY}" ]
    includeDirs: [ "${PROTOS}" ]
    services: [ example.library.v1.LibraryService ]
    routes: [ { rpc: example.library.v1.LibraryService/Echo, method: post, path: /v1/echo, body: "*" } ]
    timeout: 2s
`, 'g.yaml', {});
  assert.equal(c.upstreams.library.targets[0].url, 'h2c://127.0.0.1:50051');
  assert.equal(c.upstreams.library.protocol, 'grpc');
  assert.equal(c.routes[0].name, 'site');
  const generated = c.routes.slice(1);
  assert.ok(generated.length >= 10, `${generated.length} generated routes`);
  generated.forEach((r, i) => {
    assert.equal(r.index, i + 1);
    assert.equal(r.upstream, 'library');
    assert.equal(r.transcode?.grpc, 0);
    assert.equal(r.timeout.requestMs, 2000);
  });
  const echo = generated.find((r) => r.match.path === '/v1/echo');
  assert.deepEqual(echo?.match.methods, ['POST']);
  const getShelf = generated.find((r) => r.match.path === '/v1/shelves/:p0' && r.match.methods?.[0] === 'GET');
  assert.ok(getShelf !== undefined, generated.map((r) => `${r.match.methods} ${r.match.path}`).join('\n'));
  assert.deepEqual(c.grpc[0].routes, [{ rpc: 'example.library.v1.LibraryService/Echo', method: 'POST', path: '/v1/echo', body: '*', responseBody: '' }]);
});

test('grpc mistakes: unknown or non-grpc upstream, a route to a grpc upstream, a missing proto, an unknown service', () => {
  const err = configError(() => parseConfig(`
upstreams:
  web: { targets: [ { url: "http://127.0.0.1:3001" } ] }
  library: { targets: [ { url: "h2c://127.0.0.1:50051" } ], protocol: grpc }
routes:
  - { match: { path: /x/* }, upstream: library }
grpc:
  - { upstream: nope, protos: [ "${LIBRARY}" ] }
  - { upstream: web, protos: [ "${LIBRARY}" ] }
`, 'bad.yaml', {}));
  assert.deepEqual(err.issues.map((i) => `${i.path}: ${i.message}`).sort(), [
    'grpc[0].upstream: unknown upstream "nope"',
    'grpc[1].upstream: upstream "web" must have protocol: grpc',
    'routes[0].upstream: "library" is a grpc upstream: it is reached through a grpc transcoding entry, not a route',
  ]);
  const missing = configError(() => parseConfig(`
upstreams:
  library: { targets: [ { url: "h2c://127.0.0.1:50051" } ], protocol: grpc }
grpc:
  - { upstream: library, protos: [ "/nonexistent/x.proto" ] }
  - { upstream: library, protos: [ "${LIBRARY}" ], includeDirs: [ "${PROTOS}" ], services: [ example.Nope ] }
`, 'missing.yaml', {}));
  const lines = missing.issues.map((i) => `${i.file}:${i.line} ${i.path}: ${i.message}`);
  assert.equal(lines.length, 2, lines.join('\n'));
  assert.match(lines[0], /^missing\.yaml:5 grpc\[0\]: cannot load \/nonexistent\/x\.proto/);
  assert.match(lines[1], /^missing\.yaml:6 grpc\[1\]: .*example\.Nope/);
});
