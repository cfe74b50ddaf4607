import { parseArgs } from 'node:util';
import { ConfigError, ENV_VARS, loadConfig, resolveConfigPath } from '../config/index.js';
import { compileRouter, explainMatch, formatExplain, formatRouteTable } from '../router/index.js';
import { DEMO_PORT_BASE_VAR } from '../demo/demo-services.js';
import { ListenError } from '../process/listen-check.js';
import { packageVersion } from './package-version.js';
import { startCommand, StartError } from './start-command.js';
import { formatChain, formatChains } from './policy-listing.js';

const USAGE = `Usage: turnpike <command> [options]
       turnpike --version | --help

Commands:
  start     --config F [--demo] [--exit-with-parent]
                                    run the gateway (cluster primary + one worker per core);
                                    --demo also runs the bundled demo services on 127.0.0.1:3001-3004;
                                    --exit-with-parent drains and exits when the parent process exits
  validate  --config F              check a config file; exit 1 with file:line: path: message on error
  routes    --config F              print the compiled route table in precedence order, and each route's policy chain
  explain   --config F METHOD PATH [-H name:value]... [--host H]
                                    tell which route a request matches and why, and the policies that would run (no server needed)

The config file defaults to $TURNPIKE_CONFIG, then config/gateway.yaml.

Environment variables (override the file):
${ENV_VARS.map((v) => `  ${v.name.padEnd(26)} ${v.description}`).join('\n')}
  ${DEMO_PORT_BASE_VAR.padEnd(26)} With --demo: first of the four demo service ports (default 3001); the
  ${''.padEnd(26)} config's upstream targets on 127.0.0.1:3001-3004 move along.
`;

/**
 * Runs the `turnpike` CLI; resolves with the process exit code. `start`
 * resolves only when the gateway has shut down.
 */
export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(USAGE);
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    const version = packageVersion();
    if (version === null) {
      process.stderr.write('turnpike: cannot find its package.json to read the version\n');
      return 1;
    }
    process.stdout.write(`turnpike ${version}\n`);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest, allowPositionals: true, strict: true,
      options: {
        config: { type: 'string', short: 'c' },
        header: { type: 'string', short: 'H', multiple: true },
        host: { type: 'string' },
        demo: { type: 'boolean', default: false },
        'exit-with-parent': { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    process.stderr.write(`turnpike: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const configPath = resolveConfigPath(parsed.values.config, process.env);
  try {
    switch (command) {
      case 'start':
        return await startCommand({
          configPath, demo: parsed.values.demo === true, exitWithParent: parsed.values['exit-with-parent'] === true,
        });
      case 'validate': {
        const config = loadConfig(configPath);
        process.stdout.write(`${configPath}: OK (${config.routes.length} routes, ${Object.keys(config.upstreams).length} upstreams)\n`);
        return 0;
      }
      case 'routes': {
        const config = loadConfig(configPath);
        process.stdout.write(formatRouteTable(compileRouter(config.routes)) + '\n' + formatChains(config));
        return 0;
      }
      case 'explain':
        return explainCommand(configPath, parsed.positionals, parsed.values.header ?? [], parsed.values.host);
      default:
        process.stderr.write(`turnpike: unknown command "${command}"\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      return 1;
    }
    if (err instanceof ListenError || err instanceof StartError) {
      process.stderr.write(`turnpike: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`turnpike: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

function explainCommand(configPath: string, positionals: string[], headerArgs: string[], hostFlag: string | undefined): number {
  if (positionals.length !== 2) {
    process.stderr.write('turnpike explain: expected METHOD and PATH, e.g. `turnpike explain GET /users/42 -H x-client:mobile`\n');
    return 2;
  }
  const [method, target] = positionals;
  const headers: Record<string, string> = {};
  for (const h of headerArgs) {
    const colon = h.indexOf(':');
    if (colon <= 0) {
      process.stderr.write(`turnpike explain: header "${h}" must look like name:value\n`);
      return 2;
    }
    headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  }
  const host = hostFlag ?? headers.host ?? '';
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  const query = q < 0 ? '' : target.slice(q + 1);
  const config = loadConfig(configPath);
  const router = compileRouter(config.routes);
  const trace = explainMatch(router, method.toUpperCase(), host, path, headers, query);
  let out = formatExplain(trace) + '\n';
  if (trace.result.kind === 'route') {
    const name = trace.result.route;
    const route = config.routes.find((r) => r.name === name)!;
    out += `Policies, in order: ${formatChain(config, route)}\n`;
  }
  process.stdout.write(out);
  return 0;
}
