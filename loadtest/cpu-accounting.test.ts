import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readProcStat, treeCpu } from '../native-bench/proc-stat.js';
import type { ProcStat } from '../native-bench/proc-stat.js';

// The child waits for "go", spins until its own CPU clock has advanced 400 ms,
// prints "done" and waits to be killed (so its /proc entry stays readable).
const BUSY_CHILD = `
process.stdin.once('data', () => {
  const start = process.cpuUsage();
  let x = 0;
  for (;;) {
    for (let i = 0; i < 1e5; i++) x = (x + i) % 1000003;
    const u = process.cpuUsage(start);
    if (u.user + u.system >= 400000) break;
  }
  process.stdout.write('done ' + x + '\\n');
});
process.stdout.write('ready\\n');
`;

function cpuMs(s: ProcStat, tickMs: number): number {
  return (s.utime + s.stime) * tickMs;
}

test('/proc CPU accounting sees a child burn ~400 ms of CPU (within ±25%)', async () => {
  const tickMs = 1000 / Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  const child = spawn(process.execPath, ['-e', BUSY_CHILD], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    child.stdout.setEncoding('utf8');
    const [ready] = (await once(child.stdout, 'data')) as [string];
    assert.match(ready, /ready/);
    const pid = child.pid as number;
    const before = readProcStat(pid);
    assert.ok(before !== null);
    const treeBefore = treeCpu(process.pid).ticks;
    child.stdin.write('go\n');
    const [done] = (await once(child.stdout, 'data')) as [string];
    assert.match(done, /done/);
    const after = readProcStat(pid);
    assert.ok(after !== null);
    const treeAfter = treeCpu(process.pid).ticks;
    const burned = cpuMs(after, tickMs) - cpuMs(before, tickMs);
    assert.ok(burned >= 300 && burned <= 500, `/proc saw ${burned} ms of CPU, expected 400 ± 100`);
    // The tree of this test process includes the child, so it grew at least as
    // much, give or take two ticks (utime and stime are each rounded to ticks).
    const treeBurned = (treeAfter - treeBefore) * tickMs;
    assert.ok(treeBurned >= burned - 2 * tickMs && treeBurned <= burned + 250, `tree ${treeBurned} ms vs child ${burned} ms`);
  } finally {
    child.kill('SIGKILL');
  }
});
