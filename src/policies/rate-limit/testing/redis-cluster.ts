/**
 * Test helper: starts a real local Redis Cluster of `n` masters (no replicas)
 * on free 127.0.0.1 ports, created with `redis-cli --cluster create`, and
 * waits until every node reports `cluster_state:ok` and knows all nodes.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, startRedisServer, type RedisServerHandle } from './redis-server.js';

const run = promisify(execFile);

/** A running local cluster. */
export interface RedisClusterHandle {
  /** One `redis://127.0.0.1:<port>` per node (plain clients, e.g. for SCRIPT FLUSH on one node). */
  readonly urls: readonly string[];
  /** `redis+cluster://127.0.0.1:p1,127.0.0.1:p2,…` for createRedisClient. */
  readonly url: string;
  readonly ports: readonly number[];
  readonly nodes: readonly RedisServerHandle[];
  /** Kills every node and removes the temp dir. */
  stop(): Promise<void>;
}

async function clusterReady(port: number, n: number): Promise<boolean> {
  const c = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
  c.on('error', () => undefined);
  try {
    await c.connect();
    const info = String(await c.cluster('INFO'));
    return info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${n}`) &&
      info.includes('cluster_slots_ok:16384');
  } catch {
    return false;
  } finally {
    c.disconnect();
  }
}

/** Starts `n` (≥ 3) cluster-enabled redis-servers and joins them into one cluster. */
export async function startRedisCluster(n = 3, timeoutMs = 15_000): Promise<RedisClusterHandle> {
  const dir = mkdtempSync(join(tmpdir(), 'tp-redis-cluster-'));
  const nodes: RedisServerHandle[] = [];
  async function stop(): Promise<void> {
    await Promise.all(nodes.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
  try {
    for (let i = 0; i < n; i++) {
      const port = await freePort();
      const busPort = await freePort();
      nodes.push(await startRedisServer({
        port,
        dir,
        args: ['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
          '--cluster-port', String(busPort), '--cluster-node-timeout', '5000'],
      }));
    }
    const addrs = nodes.map((s) => `127.0.0.1:${s.port}`);
    await run('redis-cli', ['--cluster', 'create', ...addrs, '--cluster-replicas', '0', '--cluster-yes'], { timeout: timeoutMs });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const ok = await Promise.all(nodes.map((s) => clusterReady(s.port, n)));
      if (ok.every(Boolean)) break;
      if (Date.now() > deadline) throw new Error('Redis Cluster did not reach cluster_state:ok in time');
      await new Promise((r) => setTimeout(r, 50));
    }
    return {
      urls: nodes.map((s) => s.url),
      url: `redis+cluster://${addrs.join(',')}`,
      ports: nodes.map((s) => s.port),
      nodes,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
