import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { LineWriter } from './line-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'turnpike-linewriter-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('lines written in a burst all reach the file in order, and close() waits for them', async () => {
  const file = join(dir, 'a.log');
  const w = new LineWriter(file);
  const lines = Array.from({ length: 5000 }, (_, i) => `{"n":${i},"pad":"${'x'.repeat(i % 50)}"}\n`);
  for (const l of lines) w.write(l);
  await w.close();
  assert.equal(readFileSync(file, 'utf8'), lines.join(''));
  assert.equal(w.dropped, 0);
  w.write('late\n');
  assert.equal(readFileSync(file, 'utf8'), lines.join(''), 'a closed writer takes nothing');
});

test('a file that exists is appended to', async () => {
  const file = join(dir, 'b.log');
  const first = new LineWriter(file);
  first.write('one\n');
  await first.close();
  const second = new LineWriter(file);
  second.write('two\n');
  await second.close();
  assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n');
});
