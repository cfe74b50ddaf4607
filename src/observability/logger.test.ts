import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { resolveLogLevel } from './logger.js';

test('TURNPIKE_LOG_LEVEL overrides the configured level; junk falls back', () => {
  assert.equal(resolveLogLevel('warn', {}), 'warn');
  assert.equal(resolveLogLevel('warn', { TURNPIKE_LOG_LEVEL: 'DEBUG' }), 'debug');
  assert.equal(resolveLogLevel('warn', { TURNPIKE_LOG_LEVEL: 'loud' }), 'warn');
  assert.equal(resolveLogLevel('loud', {}), 'info');
  assert.equal(resolveLogLevel(undefined, {}), 'info');
});

test('createLogger writes one JSON object per line to stdout with the bindings', () => {
  const logger = fileURLToPath(new URL('./logger.js', import.meta.url));
  const script = `import { createLogger } from ${JSON.stringify(logger)};
    const log = createLogger('info', { role: 'primary' });
    log.debug('hidden'); log.info({ port: 1 }, 'ready');`;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env: { PATH: process.env.PATH } });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 1);
  assert.equal(lines[0].msg, 'ready');
  assert.equal(lines[0].level, 'info');
  assert.equal(lines[0].role, 'primary');
  assert.equal(lines[0].port, 1);
  assert.equal(typeof lines[0].time, 'string');
});
