/**
 * The validate kind's config: its JSON Schema fragment, and the check that
 * compiles every schema at config load (so a missing schema file, a `$ref`
 * to a missing file, an unknown format or an invalid schema is reported
 * with the config file, line and path).
 */
import type { ConfigPath } from '../../config/issues.js';
import type { IssueSink } from '../types.js';
import { SchemaCompiler } from './schema-loader.js';
import { compileSettings, SettingsProblem, type ValidateConfig } from './settings.js';

type Obj = Record<string, unknown>;

const TOKEN_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

const schemaRef = {
  type: ['string', 'object', 'boolean'],
  description: 'A JSON Schema (2020-12): a file path (JSON, or YAML by extension; relative to the config file\'s directory) or the schema inline.',
  'x-message': 'must be a schema file path or an inline JSON Schema',
};

const part = (what: string, extra: Obj = {}): Obj => ({
  type: 'object',
  description: what,
  additionalProperties: false,
  required: ['schema'],
  properties: { schema: schemaRef, ...extra },
});

/** JSON Schema of `{ validate: <this> }`. */
export const validateSchema: Readonly<Obj> = {
  type: 'object',
  description: 'Refuses requests that do not match a JSON Schema (body, query, headers, path params) or an OpenAPI 3.x document (400 validation_failed).',
  additionalProperties: false,
  minProperties: 1,
  'x-message': { minProperties: 'must hold body, query, headers, params or openapi' },
  properties: {
    body: part('The JSON request body (requestBody phase: the route buffers the body).', {
      required: { type: 'boolean', description: 'An empty body is refused (default true).' },
    }),
    query: part('The query parameters as an object; values coerced from strings per the schema, repeated parameters form arrays.'),
    params: part('The route\'s path params as an object (names from the route pattern), coerced like the query.'),
    headers: {
      type: 'object',
      description: 'Request headers: names that must be present, and/or a schema of the header object (lower-case names).',
      additionalProperties: false,
      minProperties: 1,
      'x-message': { minProperties: 'must hold required and/or schema' },
      properties: {
        required: { type: 'array', minItems: 1, items: { type: 'string', pattern: TOKEN_PATTERN, 'x-message': 'is not a valid header name' } },
        schema: schemaRef,
      },
    },
    openapi: { type: 'string', minLength: 1, description: 'An OpenAPI 3.0/3.1 document (YAML or JSON; relative to the config file\'s directory).' },
    operation: { type: 'string', minLength: 1, description: '`auto` (default: the operation matching the request\'s method and path) or an operationId.' },
    responses: { enum: ['off', 'monitor'], description: 'monitor: validate JSON upstream responses against the operation\'s response schema; log and count mismatches, never block.' },
    responseLimit: { $ref: '#/$defs/size', description: 'monitor: larger response bodies are not validated (default 256kb).' },
    unmatched: { enum: ['reject', 'pass'], description: 'operation auto: a request no operation matches is refused with 404 (reject, default) or passes unvalidated.' },
  },
};

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Semantic checks of a validate config at `at`: consistent options, and every schema compiles. */
export function checkValidate(config: unknown, at: ConfigPath, issue: IssueSink, _gateway: Readonly<Obj>, file: string): void {
  if (!isObj(config)) return;
  const c = config as ValidateConfig;
  let bad = false;
  if (c.openapi !== undefined) {
    for (const k of ['body', 'query', 'params', 'headers'] as const) {
      if (c[k] !== undefined) { issue([...at, k], 'cannot be combined with openapi (the document describes the request)'); bad = true; }
    }
  } else {
    for (const k of ['operation', 'responses', 'unmatched'] as const) {
      if (c[k] !== undefined) { issue([...at, k], 'only applies with openapi'); bad = true; }
    }
  }
  if (bad) return;
  try {
    compileSettings(c, file, new SchemaCompiler());
  } catch (err) {
    if (err instanceof SettingsProblem) issue([...at, ...err.path], err.message);
    // Any other failure is a shape problem the schema check reports.
  }
}
