/**
 * A validate policy's config compiled: the plain `body`/`query`/`headers`/
 * `params` blocks into one {@link OperationCheck}, or an OpenAPI document
 * into an operation table (`operation: auto`) or one operation. Runs at
 * config load (the kind's check, to report problems with file and line) and
 * once per worker when the instances are built.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ConfigPath } from '../../config/issues.js';
import { parseSize } from '../../config/units.js';
import { readOpenApi } from './openapi-document.js';
import { compileOperations, OperationTable, type OpenApiOperation } from './openapi-operations.js';
import type { HeaderCheck, OperationCheck } from './part-checks.js';
import { SchemaProblem, type SchemaCompiler } from './schema-loader.js';

/** A `{ schema }` block (body: also `required`). */
export interface PartConfig {
  readonly schema: string | Record<string, unknown> | boolean;
  readonly required?: boolean;
}

/** The headers block: required names and/or a schema of the header object. */
export interface HeadersPartConfig {
  readonly required?: readonly string[];
  readonly schema?: string | Record<string, unknown> | boolean;
}

/** A `validate` policy's config as written. */
export interface ValidateConfig {
  readonly body?: PartConfig;
  readonly query?: PartConfig;
  readonly params?: PartConfig;
  readonly headers?: HeadersPartConfig;
  readonly openapi?: string;
  readonly operation?: string;
  readonly responses?: 'off' | 'monitor';
  readonly responseLimit?: string | number;
  readonly unmatched?: 'reject' | 'pass';
}

/** Default most bytes of a response body the monitor validates. */
export const DEFAULT_RESPONSE_LIMIT = 256 * 1024;

/**
 * The compiled policy: `plain` (a validate block), or `table` (an OpenAPI
 * document's operations; with `single` set for `operation: <operationId>`,
 * the table then holds only that operation).
 */
export interface ValidateSettings {
  readonly plain: OperationCheck | null;
  readonly table: OperationTable | null;
  readonly single: OpenApiOperation | null;
  /** What `operation: auto` does with a request no operation matches. */
  readonly unmatched: 'reject' | 'pass';
  readonly monitor: boolean;
  readonly responseLimit: number;
  /** Some operation validates a body (the policy then needs the requestBody phase). */
  readonly hasBody: boolean;
}

/** A problem with a config path relative to the kind's config. */
export class SettingsProblem extends Error {
  constructor(readonly path: ConfigPath, message: string) {
    super(message);
  }
}

/**
 * Resolves a file named in the config against the working directory, like
 * every other file the config names (TLS files, protos), so a config read
 * from elsewhere than a file means the same. `configFile` is kept for callers
 * that name it in messages.
 */
export function resolveConfigFile(_configFile: string, name: string): string {
  return isAbsolute(name) ? name : resolve(name);
}

/**
 * Compiles a validate config. `configFile` is the config file's path (for
 * messages; files resolve against the working directory).
 *
 * @throws SettingsProblem naming the config path and the schema file/pointer.
 */
export function compileSettings(cfg: ValidateConfig, configFile: string, compiler: SchemaCompiler): ValidateSettings {
  const monitor = cfg.responses === 'monitor';
  const responseLimit = cfg.responseLimit === undefined ? DEFAULT_RESPONSE_LIMIT : parseSize(cfg.responseLimit);
  const unmatched = cfg.unmatched ?? 'reject';
  if (cfg.openapi !== undefined) {
    const file = resolveConfigFile(configFile, cfg.openapi);
    const operation = cfg.operation ?? 'auto';
    let ops: OpenApiOperation[];
    let basePaths: readonly string[];
    try {
      const d = readOpenApi(file);
      basePaths = d.basePaths;
      ops = compileOperations(d, compiler, { responses: monitor, only: operation === 'auto' ? null : operation });
    } catch (err) {
      if (err instanceof SchemaProblem) throw new SettingsProblem(['openapi'], describe(err));
      throw err;
    }
    if (operation !== 'auto' && ops.length === 0) throw new SettingsProblem(['operation'], `${file} has no operation with operationId "${operation}"`);
    const hasBody = ops.some((o) => o.check.body !== null);
    const table = new OperationTable(ops, basePaths);
    if (operation === 'auto') return { plain: null, table, single: null, unmatched, monitor, responseLimit, hasBody };
    return { plain: null, table, single: ops[0], unmatched, monitor, responseLimit, hasBody };
  }
  const base = pathToFileURL(resolve('.')).href + '/';
  const part = (name: 'body' | 'query' | 'params', schema: PartConfig['schema'], coerce: boolean) => compilePart(compiler, configFile, base, [name, 'schema'], schema, coerce);
  let headers: HeaderCheck | null = null;
  if (cfg.headers !== undefined) {
    const required = (cfg.headers.required ?? []).map((n) => n.toLowerCase());
    const validate = cfg.headers.schema === undefined ? null : compilePart(compiler, configFile, base, ['headers', 'schema'], cfg.headers.schema, true);
    headers = { required, validate, names: null };
  }
  const plain: OperationCheck = {
    id: '',
    params: cfg.params === undefined ? null : part('params', cfg.params.schema, true),
    query: cfg.query === undefined ? null : { validate: part('query', cfg.query.schema, true), delimiters: null },
    headers,
    body: cfg.body === undefined ? null : { validate: part('body', cfg.body.schema, false), required: cfg.body.required ?? true },
    responses: null,
  };
  return {
    plain, table: null, single: null, unmatched, monitor: false, responseLimit,
    hasBody: plain.body !== null,
  };
}

function compilePart(
  compiler: SchemaCompiler, configFile: string, base: string, at: ConfigPath, schema: PartConfig['schema'], coerce: boolean,
): import('ajv').ValidateFunction {
  try {
    if (typeof schema === 'string') return compiler.compileFile(resolveConfigFile(configFile, schema), schema, coerce);
    return compiler.compileInline(schema, base, configFile, coerce);
  } catch (err) {
    if (!(err instanceof SchemaProblem)) throw err;
    if (typeof schema === 'string' || err.file !== configFile) throw new SettingsProblem(at, describe(err));
    // An inline schema: point into the config itself.
    const segments = err.pointer === '' ? [] : err.pointer.slice(1).split('/').map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
    throw new SettingsProblem([...at, ...segments.map((s) => (/^\d+$/.test(s) ? Number(s) : s))], err.message);
  }
}

/** `<file> at <pointer>: <message>` (the pointer only when there is one). */
function describe(p: SchemaProblem): string {
  return p.pointer === '' ? (p.message.includes(p.file) ? p.message : `${p.file}: ${p.message}`) : `${p.file} at ${p.pointer}: ${p.message}`;
}
