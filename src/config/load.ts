import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { applyEnvOverrides, readEnvOverrides } from './env.js';
import { ConfigError, IssueList, type ConfigIssue } from './issues.js';
import { normalise } from './normalise.js';
import { checkSchema } from './schema-check.js';
import { checkSemantics } from './semantic-check.js';
import type { GatewayConfig } from './types.js';
import { entryBindings, grpcRoutes, type GrpcEntryBindings } from '../transcode/grpc-routes.js';

/** Config file used when neither `--config` nor TURNPIKE_CONFIG is given. */
export const DEFAULT_CONFIG_PATH = 'config/gateway.yaml';

/**
 * Picks the config file: the CLI flag, else TURNPIKE_CONFIG, else
 * `config/gateway.yaml`; resolved against the current directory.
 *
 * @param cliPath value of `--config`, if any (empty counts as absent).
 * @param env the environment (usually process.env).
 * @returns an absolute path.
 */
export function resolveConfigPath(cliPath: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = cliPath !== undefined && cliPath !== '' ? cliPath : env.TURNPIKE_CONFIG !== undefined && env.TURNPIKE_CONFIG !== '' ? env.TURNPIKE_CONFIG : DEFAULT_CONFIG_PATH;
  return resolve(chosen);
}

/**
 * Reads, validates and normalises a config file, then applies the TURNPIKE_*
 * environment overrides (see ENV_VARS).
 *
 * @param file path of the YAML file (used as-is in error messages).
 * @param env the environment (usually process.env).
 * @throws ConfigError listing every problem (file:line:col: path: message).
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new ConfigError([{ file, line: 0, column: 0, path: '', message: `cannot read config file (${reason})` }]);
  }
  return parseConfig(text, file, env);
}

/**
 * Appends the routes of the `grpc` transcoding entries (from their protos);
 * a proto or binding problem is reported at the entry, like any config error.
 */
function addGrpcRoutes(config: GatewayConfig, issues: IssueList): void {
  if (config.grpc.length === 0) return;
  const bindings: GrpcEntryBindings[] = [];
  config.grpc.forEach((g, i) => {
    try {
      bindings.push(entryBindings(g));
    } catch (err) {
      issues.add(['grpc', i], (err as Error).message);
    }
  });
  if (issues.items.length > 0) throw new ConfigError(issues.sorted());
  config.routes.push(...grpcRoutes(config, bindings, config.routes.length));
}

/**
 * Validates and normalises YAML text (the body of {@link loadConfig}, for tests
 * and callers that already hold the text). An empty document is a valid config
 * made only of defaults.
 *
 * @param text the YAML source.
 * @param file name used in messages; `GatewayConfig.source` is its absolute form
 *   (a URL-like name such as `etcd://host:port/prefix/config@rev42` is kept as is).
 * @param env the environment (usually process.env).
 * @throws ConfigError listing every problem.
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const issues = new IssueList(file, doc, lines);
  let data: unknown = null;
  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      const pos = lines.linePos(err.pos[0]);
      const message = err.code === 'MULTIPLE_DOCS' ? 'the file must hold a single YAML document (remove the ---)' : err.message.split('\n')[0];
      issues.addAt(Math.max(pos.line, 1), Math.max(pos.col, 1), '', `YAML syntax error: ${message}`);
    }
  } else {
    try {
      data = doc.toJS() ?? {};
    } catch (err) {
      issues.addAt(1, 1, '', `YAML error: ${(err as Error).message}`);
    }
    if (issues.items.length === 0) {
      checkSchema(data, issues);
      checkSemantics(data, issues, env);
    }
  }
  const envIssues: ConfigIssue[] = [];
  const overrides = readEnvOverrides(env, envIssues);
  const all = [...issues.sorted(), ...envIssues];
  if (all.length > 0) throw new ConfigError(all);
  // A URL-like name (`etcd://host:port/prefix/config@rev42`) is kept as it is.
  const config = normalise(data as Record<string, unknown>, /^[a-z][a-z0-9+.-]*:\/\//i.test(file) ? file : resolve(file), env);
  applyEnvOverrides(config, overrides);
  addGrpcRoutes(config, issues);
  return config;
}
