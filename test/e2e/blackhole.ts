import { connect, type Socket } from 'node:net';
import { Worker } from 'node:worker_threads';

/** A local port whose TCP handshakes never complete (for connect timeouts). */
export interface Blackhole {
  port: number;
  close(): Promise<void>;
}

// The listener lives in a worker thread whose event loop is then blocked in
// Atomics.wait, so nothing ever accepts: once the kernel's accept queue
// (backlog + 1) is full, further SYNs are dropped and connects hang.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const server = net.createServer();
server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
  parentPort.postMessage(server.address().port);
  const flag = workerData;
  while (Atomics.load(flag, 0) === 0) Atomics.wait(flag, 0, 0);
  server.close();
});
`;

/**
 * Starts a blackhole listener on 127.0.0.1: a real listening socket whose
 * accept queue is filled by a few parked connections, so a new connection
 * attempt stays in SYN-SENT until the client gives up.
 */
export async function startBlackhole(): Promise<Blackhole> {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: flag });
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  const fillers: Socket[] = [];
  for (let i = 0; i < 4; i++) {
    const s = connect(port, '127.0.0.1');
    s.on('error', ignore);
    fillers.push(s);
  }
  // Let the fillers reach the accept queue before anyone relies on it being full.
  await new Promise((r) => setTimeout(r, 50));
  return {
    port,
    close: async () => {
      for (const s of fillers) s.destroy();
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
      await worker.terminate();
    },
  };
}

function ignore(): void {}
