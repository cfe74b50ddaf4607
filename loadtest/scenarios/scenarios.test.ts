import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../src/config/index.js';
import { compileRouter } from '../../src/router/compile-router.js';
import { renderTemplate } from '../../native-bench/bench-template.js';
import { repoRoot } from '../processes.js';
import { paramsLookups, paramsRoutes, renderParamsConfig } from './params-table.js';
import { SCENARIOS, scenarioByName } from './index.js';
import { makeTlsTarget } from '../tls-target.js';

// The tls scenario's config names certificate files, which the loader reads.
const tlsDir = mkdtempSync(join(tmpdir(), 'turnpike-scenarios-'));
const tls = makeTlsTarget(tlsDir);
after(() => rmSync(tlsDir, { recursive: true, force: true }));

const NO_PREDICATES = { header: (): string => '', queryParam: (): undefined => undefined };

function scenarioConfig(file: string, vars: Record<string, string> = {}): string {
  return renderTemplate(readFileSync(join(repoRoot(), 'config', 'loadtest', file), 'utf8'), { ...vars, ...tls.vars, PORT: 18080, ADMIN_PORT: 19901, UPSTREAM_PORT: 13001 });
}

test('config/loadtest/params.yaml is what params-table.ts generates', () => {
  assert.equal(readFileSync(join(repoRoot(), 'config', 'loadtest', 'params.yaml'), 'utf8'), renderParamsConfig(),
    'regenerate with: node -e "import(\'./dist/loadtest/scenarios/params-table.js\').then(m=>process.stdout.write(m.renderParamsConfig()))" > config/loadtest/params.yaml');
  assert.ok(paramsRoutes().length >= 250, `${paramsRoutes().length} routes`);
});

test('every scenario config validates, and every request of every scenario matches a route', () => {
  for (const s of SCENARIOS) {
    const config = parseConfig(scenarioConfig(s.configFile, s.prepare?.()), s.configFile, {});
    const router = compileRouter(config.routes);
    for (const req of s.requests()) {
      const m = router.match(req.method, '127.0.0.1', req.path.split('?')[0], NO_PREDICATES, []);
      assert.ok(m !== null && typeof m === 'object' && m.kind === 'route', `${s.name}: ${req.method} ${req.path} did not match a route`);
    }
  }
});

test('params lookups hit statics, params and wildcards, each on its own route', () => {
  const config = parseConfig(scenarioConfig('params.yaml'), 'params.yaml', {});
  const router = compileRouter(config.routes);
  const names = new Set<string>();
  for (const path of paramsLookups()) {
    const m = router.match('GET', '127.0.0.1', path, NO_PREDICATES, []);
    assert.ok(m !== null && typeof m === 'object' && m.kind === 'route', path);
    names.add(m.name ?? '');
  }
  for (const n of ['health', 'static', 'users-get', 'users-items-get', 'users-export', 'issue']) assert.ok(names.has(n), `no lookup reaches ${n}`);
  assert.throws(() => scenarioByName('nope'), /unknown scenario "nope"; known: passthrough, tls, tls-mtls, params, large-body, slow-upstream, ratelimit, policies, jwt, auth, transcode-small-inline/);
});
