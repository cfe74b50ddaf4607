// The WebSocket bench: the generator against a real echo server (counts and
// latencies sane in both modes), and a short smoke run of the whole bench
// (real echo upstream, real 1-worker gateway) that checks every number it
// reports is present and sane; speed is measured by `npm run loadtest:websocket`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { ProcessSet } from '../../native-bench/bench-procs.js';
import { runWsBench } from './ws-bench-run.js';
import { runWsLoad } from './ws-load.js';
import { writeWsReport, type WsBenchResult } from './ws-report.js';

test('generator: throughput and fixed-rate modes against an echo server', async () => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  wss.on('connection', (ws) => ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary })));
  const url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/`;
  try {
    const t = await runWsLoad({ url, connections: 4, size: 100, durationMs: 500, window: 4 });
    assert.equal(t.mode, 'throughput');
    assert.deepEqual(t.errors, { connect: 0, closed: 0 });
    assert.equal(t.unfinished, 0);
    assert.equal(t.completed, t.sent, 'every message echoed');
    assert.ok(t.messagesPerSec > 100, `${t.messagesPerSec} msg/s`);
    assert.ok(t.percentiles.p50 > 0 && t.percentiles.p50 <= t.percentiles.p99 && t.percentiles.p99 <= t.percentiles.max);
    const l = await runWsLoad({ url, connections: 4, size: 10, durationMs: 1000, rate: 200 });
    assert.equal(l.mode, 'latency');
    assert.equal(l.sent, 200, 'rate × duration messages');
    assert.equal(l.completed, 200);
    assert.ok(Math.abs(l.messagesPerSec - 200) < 50, `${l.messagesPerSec} msg/s at 200/s`);
    const refused = await runWsLoad({ url: 'ws://127.0.0.1:1/', connections: 2, size: 1, durationMs: 100, window: 1 });
    assert.equal(refused.errors.connect, 2);
    assert.equal(refused.sent, 0);
  } finally {
    wss.close();
  }
});

test('smoke: the bench runs both modes direct and through a 1-worker gateway and writes its report', { timeout: 90_000 }, async () => {
  const set = new ProcessSet();
  const runDir = mkdtempSync(join(os.tmpdir(), 'ws-bench-smoke-'));
  chmodSync(runDir, 0o755);
  try {
    const runs = await runWsBench({
      set, runDir, clkTck: 100, workers: 1, connections: 4, window: 4, size: 64, rates: [300],
      modes: ['throughput', 'latency'], durationS: 1, warmupS: 0.2, rounds: 1,
    });
    assert.deepEqual(runs.map((r) => `${r.mode}/${r.target}`), ['throughput/direct', 'throughput/turnpike', 'latency/direct', 'latency/turnpike']);
    for (const r of runs) {
      assert.equal(r.errors.connect + r.errors.closed + r.unfinished, 0, `${r.mode}/${r.target}: ${JSON.stringify(r.errors)}`);
      assert.ok(r.completed > 0 && r.messagesPerSec > 0);
      assert.ok(r.latency.p50 > 0 && r.latency.p50 <= r.latency.p99 && r.latency.p99 <= r.latency.max, JSON.stringify(r.latency));
      if (r.target === 'turnpike') {
        assert.ok(r.added !== null, 'added latency against the same round\'s direct run');
        assert.ok(r.cpuUsPerMessage !== null && r.cpuUsPerMessage > 0 && Number.isFinite(r.cpuUsPerMessage));
        assert.ok(r.rssMiB !== null && r.rssMiB > 20);
      } else {
        assert.equal(r.added, null);
        assert.equal(r.cpuUsPerMessage, null);
      }
    }
    const latency = runs[3];
    assert.ok(Math.abs(latency.messagesPerSec - 300) / 300 < 0.25, `${latency.messagesPerSec} msg/s at 300/s`);
    const result: WsBenchResult = {
      version: 1, date: new Date().toISOString(), command: 'test', pinning: 'none', runs,
      machine: { cpuModel: 'x', cores: 2, kernel: 'k', node: process.version, nginx: '-', wrk: '-', haproxy: '-', clkTck: 100, loadAvgStart: 0, gitCommit: 'abc', gitDirty: false },
    };
    const [json, md] = writeWsReport(result, join(runDir, 'out'), 'websocket');
    assert.equal((JSON.parse(readFileSync(json, 'utf8')) as WsBenchResult).runs.length, 4);
    const text = readFileSync(md, 'utf8');
    assert.match(text, /^# WebSocket proxying/m);
    assert.equal(text.split('\n').filter((l) => /^\| 1 \| (throughput|latency) \|/.test(l)).length, 4);
  } finally {
    await set.stopAll(3000);
    rmSync(runDir, { recursive: true, force: true });
  }
});
