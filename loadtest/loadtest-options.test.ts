import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadtestUsage, parseLoadtestArgs, type LoadtestOptions } from './loadtest-options.js';

const NOW = new Date('2026-11-23T22:46:05.123Z');

function options(argv: string[]): LoadtestOptions {
  const parsed = parseLoadtestArgs(argv, NOW);
  if (parsed.help) throw new Error(`${argv.join(' ')} asked for help`);
  return parsed.options;
}

test('a default run writes to results/tmp/<UTC time>, never to the committed results/', () => {
  const o = options([]);
  assert.equal(o.out, join('results', 'tmp', '20261123T224605Z'));
  assert.equal(o.name, 'loadtest');
  assert.deepEqual(
    { scenario: o.scenario, mode: o.mode, duration: o.duration, warmup: o.warmup, pin: o.pin, workers: o.workers },
    { scenario: 'all', mode: 'closed,open', duration: '10', warmup: '2', pin: 'auto', workers: undefined },
  );
  assert.equal(options(['--name', 'x', '--scenario', 'params']).out, join('results', 'tmp', '20261123T224605Z'));
});

test('--out is taken as given, including results itself', () => {
  assert.equal(options(['--out', 'results']).out, 'results');
  const o = options(['--out', '/tmp/lt', '--name', 'run1', '--gateway-cpus', '0-2', '--load-cpus', '3']);
  assert.deepEqual([o.out, o.name, o.gatewayCpus, o.loadCpus], ['/tmp/lt', 'run1', '0-2', '3']);
});

test('--help and -h ask for the usage; an unknown option throws one line', () => {
  assert.deepEqual(parseLoadtestArgs(['--help']), { help: true });
  assert.deepEqual(parseLoadtestArgs(['--duration', '3', '-h']), { help: true });
  assert.throws(() => parseLoadtestArgs(['--outdir', 'x']), /Unknown option '--outdir'/);
  const usage = loadtestUsage(['passthrough', 'params']);
  for (const flag of ['--scenario', '--mode', '--workers', '--duration', '--warmup', '--connections', '--rates', '--pin',
    '--gateway-cpus', '--load-cpus', '--out', '--name', '--help']) {
    assert.ok(usage.includes(flag), flag);
  }
  assert.match(usage, /passthrough, params/);
});

test('`loadtest-cli --help` prints the options and exits 0 without running anything; a bad option exits 2', () => {
  const cli = fileURLToPath(new URL('./loadtest-cli.js', import.meta.url));
  const help = spawnSync(process.execPath, [cli, '--help'], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: npm run loadtest -- \[options\]/);
  assert.match(help.stdout, /--out DIR\s+report directory \(default results\/tmp\/<UTC time>\//);
  assert.match(help.stdout, /slow-upstream/);
  assert.equal(help.stderr, '');
  const bad = spawnSync(process.execPath, [cli, '--bogus'], { encoding: 'utf8', timeout: 15_000 });
  assert.equal(bad.status, 2);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^loadtest: Unknown option '--bogus'.*\nRun `npm run loadtest -- --help` for the options\.\n$/);
});
