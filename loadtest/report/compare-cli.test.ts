import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sampleResult } from './sample-result.js';

const CLI = fileURLToPath(new URL('./compare-cli.js', import.meta.url));

/** Runs the compiled CLI to completion. */
async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const [code] = (await once(child, 'exit')) as [number];
  return { code, stdout, stderr };
}

test('compare CLI prints the comparison of two result files (text and --md), exit 0', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'compare-cli-'));
  try {
    const before = sampleResult();
    const after = sampleResult();
    after.runs[0].rps = 15_000;
    after.runs.splice(5, 1);
    const b = join(dir, 'before.json');
    const a = join(dir, 'after.json');
    await writeFile(b, JSON.stringify(before));
    await writeFile(a, JSON.stringify(after));
    const text = await run([b, a]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stderr, '');
    assert.match(text.stdout, /rest-small closed turnpike w1 c64\s+req\/s\s+12,000\s+15,000\s+\+3,000\s+\+25\.0%\s+better !/);
    assert.match(text.stdout, /rest-16k closed turnpike w2 c64\s+only in before/);
    const md = await run([b, a, '--md']);
    assert.equal(md.code, 0, md.stderr);
    assert.ok(md.stdout.startsWith('| run | metric |'));
    assert.ok(md.stdout.includes('| rest-16k closed turnpike w2 c64 | only in before |'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('compare CLI rejects bad input with the file name and exit 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'compare-cli-'));
  try {
    const good = join(dir, 'good.json');
    const v2 = join(dir, 'v2.json');
    const junk = join(dir, 'junk.json');
    await writeFile(good, JSON.stringify(sampleResult()));
    await writeFile(v2, JSON.stringify({ ...sampleResult(), version: 2 }));
    await writeFile(junk, 'not json');
    const wrongVersion = await run([good, v2]);
    assert.equal(wrongVersion.code, 2);
    assert.equal(wrongVersion.stdout, '');
    assert.equal(wrongVersion.stderr, `compare: ${v2}: "version" is 2, expected 1 (not a load-test result of this format)\n`);
    const notJson = await run([junk, good]);
    assert.equal(notJson.code, 2);
    assert.match(notJson.stderr, new RegExp(`^compare: ${junk.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not valid JSON`));
    const missing = await run([good, join(dir, 'nope.json')]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope\.json: cannot read \(ENOENT\)/);
    const usage = await run([good]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /expected 2 files, got 1\nusage: /);
    const badFlag = await run([good, good, '--bogus']);
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.stderr, /usage: /);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
