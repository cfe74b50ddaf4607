import { loadConfig } from '../config/index.js';
import { startDemoServices } from '../demo/demo-services.js';
import { compileRouter, formatRouteTable } from '../router/index.js';
import { runPrimary } from '../process/primary.js';
import { watchRateLimitStore } from '../policies/rate-limit/store-watch.js';

/**
 * `turnpike start`: runs the cluster primary (which forks the workers and the
 * admin listener). With `--demo` the bundled demo services start first, in
 * this process, on 127.0.0.1:3001-3004. Resolves only if startup fails;
 * otherwise the primary exits the process on SIGTERM/SIGINT.
 */
export async function startCommand(configPath: string, demo: boolean): Promise<number> {
  if (demo) {
    const services = await startDemoServices();
    process.stdout.write(JSON.stringify({
      level: 30, time: Date.now(), role: 'demo',
      msg: 'demo services listening', services: services.map((s) => `${s.name}@127.0.0.1:${s.port}`),
    }) + '\n');
  }
  const primary = await runPrimary({
    configPath,
    loadConfig: (path) => loadConfig(path),
    // A host-wide sysctl: operators who manage sysctls themselves turn this off.
    tcpMigrateReq: process.env.TURNPIKE_TCP_MIGRATE_REQ !== '0',
    routesJson: (config) => ({
      routes: config.routes,
      table: formatRouteTable(compileRouter(config.routes)).split('\n'),
    }),
  });
  watchRateLimitStore(primary.currentConfig(), primary.readinessDetails, primary.logger);
  return new Promise<number>(() => { /* the primary exits the process */ });
}
