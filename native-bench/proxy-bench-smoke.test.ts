import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Report } from './bench-report.js';
import { PROXY_NAMES } from './proxy-targets.js';

// why: the compiled benchmark beside this compiled test (dist/ or a side
// build); Turnpike itself always runs from dist/ via bin/turnpike.js.
const script = join(dirname(fileURLToPath(import.meta.url)), 'proxy-bench.js');

/** Runs `node script args`; resolves with the exit code and the output. */
function run(args: string[], timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => { output += b.toString('utf8'); });
    child.stderr.on('data', (b: Buffer) => { output += b.toString('utf8'); });
    // why: SIGTERM lets the benchmark stop every process it started.
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, output }); });
  });
}

test('proxy-bench runs params and large-body through all five proxies and reports Turnpike ratios', { timeout: 120_000 }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'proxy-bench-smoke-'));
  try {
    const t0 = Date.now();
    const r = await run(['--rounds', '1', '--duration', '1', '--warmup', '0', '--quiet-wait', '0', '--census', '0', '--pin', 'off',
      '--scenarios', 'params,large-body', '--out', out], 90_000);
    assert.equal(r.code, 0, r.output);
    assert.ok(Date.now() - t0 < 90_000, `took ${Date.now() - t0} ms`);
    assert.ok(existsSync(join(out, 'proxy-bench.md')));
    const rep = JSON.parse(readFileSync(join(out, 'proxy-bench.json'), 'utf8')) as Report;
    for (const scenario of ['params', 'large-body']) {
      for (const proxy of PROXY_NAMES) {
        const runs = rep.runs.filter((x) => x.scenario === scenario && x.proxy === proxy);
        assert.equal(runs.length, 1, `${proxy} in ${scenario}`);
        const e = runs[0].wrk.errors;
        assert.equal(e.connect + e.read + e.write + e.timeout + e.non2xx, 0, `${proxy} ${scenario} errors ${JSON.stringify(e)}`);
        assert.ok(runs[0].wrk.requests > 0 && runs[0].proxyCpuMs > 0, `${proxy} ${scenario} measured nothing`);
        if (scenario === 'params') assert.match(runs[0].wrkCommand, / -s \S+params\.lua /);
        if (proxy !== 'turnpike') {
          const ratio = rep.ratios.find((x) => x.scenario === scenario && x.versus === proxy);
          assert.ok(ratio !== undefined && ratio.rps > 0 && ratio.cpuPerReq > 0 && ratio.p99 > 0, `ratio vs ${proxy} in ${scenario}`);
        }
        assert.ok(rep.checks?.some((c) => c.startsWith(`${proxy}, ${scenario}: `)), `no response check for ${proxy} ${scenario}`);
      }
    }
    assert.ok(rep.summary.every((s) => s.errors === 0));
    assert.equal(rep.ratios.length, 2 * (PROXY_NAMES.length - 1));
    assert.match(r.output, /Turnpike ÷ each proxy:\n\| scenario \|/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
