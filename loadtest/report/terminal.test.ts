import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { ProgressBar, formatTerminalTable } from './terminal.js';
import { sampleResult } from './sample-result.js';

test('terminal table: header, rule, one aligned line per run', () => {
  const runs = sampleResult().runs;
  const lines = formatTerminalTable(runs).split('\n');
  assert.equal(lines.length, 2 + runs.length);
  assert.match(lines[0], /^scenario\s+mode\s+target\s+workers\s+conns\s+rate\s+req\/s\s+p50 ms/);
  assert.match(lines[1], /^-+( +-+)+$/);
  // Right-aligned numeric columns end at the same character offset on every line.
  const end = lines[0].indexOf('req/s') + 'req/s'.length;
  for (const l of lines.slice(2)) assert.match(l.slice(0, end), /\d$/, l);
  assert.ok(lines.some((l) => /rest-small\s+closed\s+turnpike\s+4\s+64\s+–\s+23,000\s+4\.10/.test(l)));
  assert.ok(lines.some((l) => /\s7\s+86\.9\s+12,422\s+260\.8$/.test(l)), 'errors total, CPU, req/s/core, RSS');
  assert.ok(!lines.join('\n').includes('\x1b'), 'plain text');
  assert.equal(formatTerminalTable([]), '(no runs)');
});

test('progress bar on a TTY redraws one line in place and ends it on done()', () => {
  const sink = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
  let out = '';
  sink.on('data', (c: Buffer) => { out += c.toString(); });
  const bar = new ProgressBar(sink, 'rest-small w2', 10_000);
  bar.update(0);
  bar.update(2_500, '9,800 req/s');
  bar.update(2_500, '9,800 req/s');
  bar.update(20_000);
  bar.done();
  bar.done();
  sink.end();
  const frames = out.split('\r\x1b[K').filter((f) => f !== '');
  assert.equal(frames.length, 3, 'identical redraws skipped, 100 % drawn once');
  assert.match(frames[0], /^rest-small w2 \[-{24}\]   0% 0\.0\/10\.0 s$/);
  assert.match(frames[1], /^rest-small w2 \[#{6}-{18}\]  25% 2\.5\/10\.0 s  9,800 req\/s$/);
  assert.match(frames[2], /^rest-small w2 \[#{24}\] 100% 10\.0\/10\.0 s  9,800 req\/s\n$/);
  assert.equal((out.match(/\n/g) ?? []).length, 1, 'one newline, after done()');
});

test('progress bar without a TTY prints at most one line per 10 % step (real piped stdout)', async () => {
  const mod = new URL('./terminal.js', import.meta.url).href;
  const script = `
    const { ProgressBar } = await import(${JSON.stringify(mod)});
    const bar = new ProgressBar(process.stdout, 'open 5000/s', 10000);
    for (let ms = 0; ms <= 12000; ms += 37) bar.update(ms, 'rps ' + ms);
    bar.done();
    new ProgressBar(process.stdout, 'short', 10000).done();
    new ProgressBar(process.stdout, 'zero', 0).update(5);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  const [code] = (await once(child, 'exit')) as [number];
  assert.equal(code, 0);
  const lines = out.trimEnd().split('\n');
  const main = lines.filter((l) => l.startsWith('open 5000/s'));
  assert.equal(main.length, 11, '0 %, 10 %, ..., 100 %');
  assert.equal(main[0], 'open 5000/s 0%  rps 0');
  assert.match(main[1], /^open 5000\/s 10%  rps \d+$/);
  assert.match(main[10], /^open 5000\/s 100%  rps \d+$/);
  assert.deepEqual(lines.slice(11), ['short 100%', 'zero 100%']);
  assert.ok(!out.includes('\r') && !out.includes('\x1b'), 'no terminal control characters in logs');
});
