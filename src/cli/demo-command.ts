import { closeDemoServices, readDemoPortBase, startDemoServices } from '../demo/demo-services.js';
import { StartError } from './start-command.js';

/** Options of {@link demoCommand}. */
export interface DemoOptions {
  /** Address the demo services listen on (`--host`, default 127.0.0.1; 0.0.0.0 in a container). */
  host: string;
}

function logLine(msg: string, extra: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify({ level: 30, time: Date.now(), pid: process.pid, role: 'demo', msg, ...extra }) + '\n');
}

/**
 * `turnpike demo`: runs only the bundled demo services (users, orders v1/v2,
 * payments) on `host`, at `TURNPIKE_DEMO_PORT_BASE` (default 3001) and the
 * next three ports, without a gateway: what `docker-compose.yaml` runs in
 * its `demo` service. Logs one JSON line when listening and one when
 * stopped; resolves with exit code 0 after SIGTERM or SIGINT closed them.
 * A taken port or a bad port base throws (one line, exit 1).
 */
export async function demoCommand(options: DemoOptions): Promise<number> {
  const parsed = readDemoPortBase(process.env);
  if ('error' in parsed) throw new StartError(parsed.error);
  const services = await startDemoServices(parsed.base, options.host);
  logLine('demo services listening', { services: services.map((s) => `${s.name}@${options.host}:${s.port}`) });
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (sig: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      resolve(sig);
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await closeDemoServices(services);
  logLine('stopped', { signal });
  return 0;
}
