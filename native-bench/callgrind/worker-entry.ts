/**
 * One gateway worker in this process (no cluster primary), for
 * instruction counting under callgrind: loads the config file named by
 * argv[2], starts the worker, prints `ready <port>`, and drains on SIGTERM.
 */
import { loadConfig } from '../../src/config/load.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';

async function main(): Promise<void> {
  const config = loadConfig(process.argv[2]);
  const worker = await startWorker(config);
  process.stdout.write(`ready ${config.server.port}\n`);
  process.once('SIGTERM', function stop() {
    void worker.drain(1000).finally(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`callgrind worker: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  process.exit(1);
});
