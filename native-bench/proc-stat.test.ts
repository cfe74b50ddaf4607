import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { coreBusyPercent, parseCoreTicks, parseProcStat, parseVmRssBytes, processTree, readCoreTicks, treeCpu, treeRssBytes } from './proc-stat.js';

test('parseProcStat counts fields after the last parenthesis', () => {
  // comm "(a) b" contains a space and parentheses.
  const line = '4242 ((a) b) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 31 7 3 20 0 1 0 12345 1000 10 18446744073709551615';
  const s = parseProcStat(line);
  assert.deepEqual(s, { pid: 4242, comm: '(a) b', ppid: 17, utime: 250, stime: 31, cutime: 7, cstime: 3 });
});

test('parseCoreTicks and coreBusyPercent use per-core lines only', () => {
  const a = parseCoreTicks('cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 5 0 5 40 0 0 0 0 0 0\ncpu1 5 0 5 40 0 0 0 0 0 0\nintr 1\n');
  const b = parseCoreTicks('cpu  0\ncpu0 55 0 5 40 0 0 0 0 0 0\ncpu1 5 0 5 90 0 0 0 0 0 0\n');
  assert.deepEqual(a, [{ busy: 10, total: 50 }, { busy: 10, total: 50 }]);
  assert.deepEqual(coreBusyPercent(a, b), [100, 0]);
});

test('processTree and treeCpu include live children of a real process', async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 5000)'], { stdio: 'ignore' });
  try {
    await new Promise<void>((resolve) => child.once('spawn', () => resolve()));
    const tree = processTree(process.pid);
    assert.equal(tree[0].pid, process.pid);
    assert.ok(tree.some((p) => p.pid === child.pid && p.ppid === process.pid));
    const cpu = treeCpu(process.pid);
    assert.ok(cpu.processes.length >= 2);
    assert.equal(cpu.ticks, cpu.processes.reduce((a, p) => a + p.ticks, 0));
    assert.deepEqual(processTree(2 ** 22 + 7), []);
  } finally {
    // why: wait for the exit, or the next test (our own tree's RSS) may still count the child.
    const exited = new Promise<void>((resolve) => { if (child.exitCode !== null || child.signalCode !== null) resolve(); else child.once('exit', () => resolve()); });
    child.kill('SIGKILL');
    await exited;
  }
});

test('readCoreTicks sees every core of this machine', () => {
  const cores = readCoreTicks();
  assert.ok(cores.length >= 1);
  for (const c of cores) assert.ok(c.total >= c.busy && c.busy >= 0);
});

test('parseVmRssBytes reads the VmRSS line in KiB; treeRssBytes sums a real tree', () => {
  assert.equal(parseVmRssBytes('Name:\tnode\nVmPeak:\t 900 kB\nVmRSS:\t  51200 kB\nRssAnon:\t 1 kB\n'), 51200 * 1024);
  assert.equal(parseVmRssBytes('Name:\tzombie\nState:\tZ\n'), 0);
  const own = treeRssBytes(process.pid);
  const mem = process.memoryUsage().rss;
  // Our own RSS read through /proc is within 20% of what Node reports (it moves between the two reads).
  assert.ok(own > mem * 0.8 && own < mem * 1.2, `treeRssBytes ${own} vs process rss ${mem}`);
});
