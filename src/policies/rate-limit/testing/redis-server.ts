/**
 * Test helper: starts a throw-away redis-server on a free 127.0.0.1 port (no
 * persistence, temp dir), which a test may SIGKILL / SIGSTOP and restart on the
 * same port. Every started server is SIGKILLed when the test process exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** A running (or killed, restartable) redis-server. */
export interface RedisServerHandle {
  readonly port: number;
  /** `redis://127.0.0.1:<port>`. */
  readonly url: string;
  readonly dir: string;
  /** The current process's pid. */
  pid(): number;
  /** Sends `signal` (default SIGKILL); for SIGKILL/SIGTERM waits until the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the server again on the same port (after kill). */
  restart(): Promise<void>;
  /** Kills the server and removes its temp dir. */
  stop(): Promise<void>;
}

/** Options of startRedisServer. */
export interface RedisServerOptions {
  /** Port to use (default: a free one). */
  readonly port?: number;
  /** Extra redis-server arguments (e.g. cluster mode). */
  readonly args?: readonly string[];
  /** Folder for data/log files (default: a new temp dir, removed by stop()). */
  readonly dir?: string;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once `PING` on 127.0.0.1:`port` answers PONG (polls every 20 ms), or rejects after `timeoutMs`. */
export async function waitForRedis(port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      if ((await c.ping()) === 'PONG') return;
    } catch {
      // not up yet
    } finally {
      c.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function exited(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => p.once('exit', () => resolve()));
}

/** Starts redis-server (no persistence) and waits until it answers PING. */
export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const port = opts.port ?? (await freePort());
  const ownDir = opts.dir === undefined;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), 'tp-redis-'));
  const log = join(dir, `redis-${port}.log`);
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', log, ...(opts.args ?? [])];
  let proc: ChildProcess;

  async function launch(): Promise<void> {
    proc = spawn('redis-server', args, { stdio: 'ignore' });
    live.add(proc);
    const p = proc;
    p.once('exit', () => live.delete(p));
    try {
      await waitForRedis(port);
    } catch (err) {
      p.kill('SIGKILL');
      let tail = '';
      try { tail = readFileSync(log, 'utf8').slice(-500); } catch { /* no log */ }
      throw new Error(`${(err as Error).message}\n${tail}`);
    }
  }

  async function kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    proc.kill(signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await exited(proc);
  }

  await launch();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    dir,
    pid: () => proc.pid ?? -1,
    kill,
    restart: launch,
    async stop(): Promise<void> {
      proc.kill('SIGCONT');
      await kill('SIGKILL');
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
