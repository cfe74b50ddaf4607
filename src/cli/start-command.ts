import { loadConfig, parseConfig } from '../config/index.js';
import { configSourceFromEnv } from '../config-source/source-from-env.js';
import { readDemoPortBase, rewriteDemoTargets, startDemoServices } from '../demo/demo-services.js';
import { compileRouter, formatRouteTable } from '../router/index.js';
import { runPrimary } from '../process/primary.js';
import { watchRateLimitStore } from '../policies/rate-limit/store-watch.js';

/** Options of {@link startCommand}. */
export interface StartOptions {
  configPath: string;
  /** Run the bundled demo services in this process (`--demo`). */
  demo: boolean;
  /** Drain and exit when the parent process exits (`--exit-with-parent`). */
  exitWithParent: boolean;
}

/** An operator error found before anything started: printed as one line, exit 1. */
export class StartError extends Error {
  override readonly name = 'StartError';
}

/**
 * `turnpike start`: runs the cluster primary (which forks the workers and the
 * admin listener). Order: the config file and environment are validated,
 * the gateway port is checked to be free, the admin listener starts, then
 * (with `--demo`) the bundled demo services start in this process on
 * 127.0.0.1:3001-3004 (or from `TURNPIKE_DEMO_PORT_BASE`, with the demo
 * upstream targets moved along), then the workers fork. Resolves only if
 * startup fails; otherwise the primary exits the process on SIGTERM/SIGINT.
 */
export async function startCommand(options: StartOptions): Promise<number> {
  const env = process.env;
  let demoBase: number | null = null;
  if (options.demo) {
    const parsed = readDemoPortBase(env);
    if ('error' in parsed) throw new StartError(parsed.error);
    demoBase = parsed.base;
  }
  const configSource = configSourceFromEnv(env, (text, name) => (demoBase === null ? parseConfig(text, name, env) : rewriteDemoTargets(parseConfig(text, name, env), demoBase)));
  const primary = await runPrimary({
    configPath: options.configPath,
    loadConfig: (path) => (demoBase === null ? loadConfig(path) : rewriteDemoTargets(loadConfig(path), demoBase)),
    configSource: configSource ?? undefined,
    // A watched source wants changes applied fast: pre-fork the next generation's workers.
    warmSpares: env.TURNPIKE_WARM_SPARES === undefined || env.TURNPIKE_WARM_SPARES === '' ? configSource !== null : env.TURNPIKE_WARM_SPARES !== '0',
    // A host-wide sysctl: operators who manage sysctls themselves turn this off.
    tcpMigrateReq: env.TURNPIKE_TCP_MIGRATE_REQ !== '0',
    exitWithParent: options.exitWithParent,
    routesJson: (config) => ({
      routes: config.routes,
      table: formatRouteTable(compileRouter(config.routes)).split('\n'),
    }),
    async beforeWorkers() {
      if (demoBase === null) return;
      const services = await startDemoServices(demoBase);
      process.stdout.write(JSON.stringify({
        level: 30, time: Date.now(), role: 'demo',
        msg: 'demo services listening', services: services.map((s) => `${s.name}@127.0.0.1:${s.port}`),
      }) + '\n');
    },
  });
  watchRateLimitStore(primary.currentConfig(), primary.readinessDetails, primary.logger);
  return new Promise<number>(() => { /* the primary exits the process */ });
}
