/**
 * The node flags a forked worker starts with: the primary's own (as cluster
 * does by default) plus the heap setting from `server.workerHeap`.
 */

import { spawnSync } from 'node:child_process';

const HEAP_FLAG = '--initial-old-space-size';

/**
 * Worker execArgv for a config's `workerHeapBytes`.
 *
 * why: a worker that proxies bodies allocates the read buffers of its
 * upstream sockets at a high rate; with V8's small default old-space start
 * size that means several short full (mark-compact) collections a second,
 * each a 3–9 ms pause that lands in p99. Starting the old space at 64 MiB
 * removes them in steady state (measured on the 16 KiB scenario of
 * native-bench: p99 7–9 ms instead of 10–20 ms, same CPU per request).
 *
 * A flag already given to node by the operator (in `primaryArgv` or
 * NODE_OPTIONS) wins, and 0 leaves V8's default.
 *
 * @param primaryArgv the primary's `process.execArgv`
 * @param workerHeapBytes `server.workerHeapBytes`
 * @param nodeOptions the NODE_OPTIONS the worker will inherit
 */
export function workerExecArgv(
  primaryArgv: readonly string[], workerHeapBytes: number, nodeOptions = '', flagWorks: (flag: string) => boolean = nodeAcceptsFlag,
): string[] {
  const argv = [...primaryArgv];
  if (workerHeapBytes <= 0) return argv;
  if (mentions(argv, HEAP_FLAG) || mentions(nodeOptions.split(/\s+/), HEAP_FLAG)) return argv;
  const flag = `${HEAP_FLAG}=${Math.max(1, Math.round(workerHeapBytes / (1024 * 1024)))}`;
  // A V8 flag this node does not know would stop every worker from starting.
  if (flagWorks(flag)) argv.push(flag);
  return argv;
}

const probed = new Map<string, boolean>();

/**
 * Whether this node binary starts with `flag` (V8 flags differ between
 * versions): runs `node FLAG -e 0` once per flag and remembers the answer.
 */
export function nodeAcceptsFlag(flag: string): boolean {
  let ok = probed.get(flag);
  if (ok === undefined) {
    const r = spawnSync(process.execPath, [flag, '-e', '0'], { stdio: 'ignore', timeout: 10_000 });
    ok = r.status === 0;
    probed.set(flag, ok);
  }
  return ok;
}

function mentions(argv: readonly string[], flag: string): boolean {
  const alt = flag.replace(/-/g, '_').replace(/^__/, '--');
  for (const a of argv) if (a === flag || a.startsWith(flag + '=') || a === alt || a.startsWith(alt + '=')) return true;
  return false;
}
