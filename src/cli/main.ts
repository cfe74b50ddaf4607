import { parseArgs } from 'node:util';
import { ConfigError, ENV_VARS, loadConfig, resolveConfigPath } from '../config/index.js';
import { compileRouter, explainMatch, formatExplain, formatRouteTable } from '../router/index.js';
import { DEMO_PORT_BASE_VAR } from '../demo/demo-services.js';
import { ListenError } from '../process/listen-check.js';
import { packageVersion } from './package-version.js';
import { startCommand, StartError } from './start-command.js';
import { demoCommand } from './demo-command.js';
import { formatChain, formatChains } from './policy-listing.js';
import { importOpenApi } from './import-openapi.js';
import { SchemaProblem } from '../policies/validate/schema-loader.js';
import { configCommand } from './config-command.js';
import { ConfigSourceError } from '../config-source/config-source.js';

const USAGE = `Usage: turnpike <command> [options]
       turnpike --version | --help

Commands:
  start     --config F [--demo] [--exit-with-parent]
                                    run the gateway (cluster primary + one worker per core);
                                    --demo also runs the bundled demo services on 127.0.0.1:3001-3004;
                                    --exit-with-parent drains and exits when the parent process exits
  demo      [--host H]              run only the bundled demo services on H (default 127.0.0.1), ports 3001-3004
                                    (or from TURNPIKE_DEMO_PORT_BASE), until SIGTERM/SIGINT; docker-compose.yaml uses it
  validate  --config F              check a config file; exit 1 with file:line: path: message on error
  routes    --config F              print the compiled route table in precedence order, and each route's policy chain
  explain   --config F METHOD PATH [-H name:value]... [--host H]
                                    tell which route a request matches and why, and the policies that would run (no server needed)
  config push --config F [--etcd URLS] [--prefix P] [--if-revision N]
                                    validate F, then write it to etcd as <prefix>/config (one atomic put;
                                    --if-revision: only if the key is still at revision N); prints the revision
  config diff --config F [--etcd URLS] [--prefix P]
                                    unified diff of etcd's current config and F; exit 0 same, 1 different
  import-openapi SPEC --upstream NAME [--spec-path P] [--no-validate]
                                    print the routes an OpenAPI 3.0/3.1 document implies (YAML to paste under routes:),
                                    each with a validate policy naming its operation (--spec-path: the document's path
                                    as the config should name it, relative to the working directory the gateway runs in)

The config file defaults to $TURNPIKE_CONFIG, then config/gateway.yaml.
TURNPIKE_CONFIG_SOURCE=etcd://host:port[,host:port]/prefix makes \`start\` read and watch <prefix>/config in
etcd instead (cache of the last good one: $TURNPIKE_CONFIG_CACHE, default .turnpike/config-cache.yaml).
\`config\` talks to --etcd, else $TURNPIKE_ETCD_ENDPOINTS, else the source's endpoints, else http://127.0.0.1:2379.

Environment variables (override the file):
${ENV_VARS.map((v) => `  ${v.name.padEnd(26)} ${v.description}`).join('\n')}
  ${DEMO_PORT_BASE_VAR.padEnd(26)} With --demo or demo: first of the four demo service ports (default 3001); the
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
        upstream: { type: 'string' },
        'spec-path': { type: 'string' },
        'no-validate': { type: 'boolean', default: false },
        etcd: { type: 'string' },
        prefix: { type: 'string' },
        'if-revision': { type: 'string' },
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
      case 'demo':
        return await demoCommand({ host: parsed.values.host ?? '127.0.0.1' });
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
      case 'config':
        return await configCommand(parsed.positionals[0], {
          configPath, etcd: parsed.values.etcd, prefix: parsed.values.prefix, ifRevision: parsed.values['if-revision'],
        });
      case 'import-openapi':
        return importOpenApiCommand(parsed.positionals, parsed.values.upstream, parsed.values['spec-path'], parsed.values['no-validate'] === true);
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
    if (err instanceof ListenError || err instanceof StartError || err instanceof ConfigSourceError) {
      process.stderr.write(`turnpike: ${err.message}\n`);
      return 1;
    }
    process.stderr.write(`turnpike: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

function importOpenApiCommand(positionals: string[], upstream: string | undefined, specPath: string | undefined, noValidate: boolean): number {
  if (positionals.length !== 1 || upstream === undefined || upstream === '') {
    process.stderr.write('turnpike import-openapi: expected SPEC and --upstream NAME, e.g. `turnpike import-openapi specs/orders.yaml --upstream orders`\n');
    return 2;
  }
  try {
    process.stdout.write(importOpenApi(positionals[0], { upstream, specPath, validate: !noValidate }));
    return 0;
  } catch (err) {
    if (!(err instanceof SchemaProblem)) throw err;
    process.stderr.write(`turnpike import-openapi: ${err.pointer === '' ? '' : err.pointer + ': '}${err.message}\n`);
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
