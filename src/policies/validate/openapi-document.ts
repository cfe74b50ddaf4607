/**
 * OpenAPI 3.0 / 3.1 documents (YAML or JSON, parsed by `yaml`): reading,
 * internal `$ref` resolution of parameters, request bodies and responses,
 * and the conversion of 3.0 schemas to JSON Schema 2020-12 (`nullable`,
 * boolean `exclusiveMinimum`/`exclusiveMaximum`). Schemas keep their
 * `$ref`s: internal ones are rewritten to point into the document, which is
 * registered with ajv under its file URL.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { isObj, SchemaProblem } from './schema-loader.js';

type Obj = Record<string, unknown>;

/** HTTP methods an OpenAPI path item may hold. */
export const OPENAPI_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** A loaded document. */
export interface OpenApiDocument {
  readonly file: string;
  readonly uri: string;
  /** 3.0 (schemas converted) or 3.1. */
  readonly v30: boolean;
  /** The parsed document, its schemas converted and internal refs made absolute (what ajv gets). */
  readonly doc: Obj;
  /** The path parts of `servers[].url` ('' for none or `/`), longest first. */
  readonly basePaths: readonly string[];
}

/** Reads and converts a document; SchemaProblem on an unreadable or non-OpenAPI file. */
export function readOpenApi(absPath: string): OpenApiDocument {
  let text: string;
  try {
    text = readFileSync(absPath, 'utf8');
  } catch (err) {
    throw new SchemaProblem(absPath, '', `cannot read ${absPath} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text, { maxAliasCount: 1000 });
  } catch (err) {
    throw new SchemaProblem(absPath, '', `${absPath} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (!isObj(raw) || typeof raw.openapi !== 'string' || !/^3\.[01]\./.test(raw.openapi)) {
    throw new SchemaProblem(absPath, '/openapi', `${absPath} is not an OpenAPI 3.0 or 3.1 document (its "openapi" field must be 3.0.x or 3.1.x)`);
  }
  if (!isObj(raw.paths)) throw new SchemaProblem(absPath, '/paths', 'the document has no paths');
  const uri = pathToFileURL(absPath).href;
  const v30 = raw.openapi.startsWith('3.0.');
  const doc = convertDocument(raw, v30, uri);
  return { file: absPath, uri, v30, doc, basePaths: basePaths(raw.servers) };
}

function basePaths(servers: unknown): string[] {
  const out = new Set<string>();
  if (Array.isArray(servers)) {
    for (const s of servers) {
      // A server URL with variables has no fixed base path: it is not used.
      if (!isObj(s) || typeof s.url !== 'string' || s.url.includes('{')) continue;
      let p: string;
      try {
        p = new URL(s.url, 'http://base.invalid').pathname;
      } catch {
        continue;
      }
      while (p.endsWith('/')) p = p.slice(0, -1);
      if (p !== '') out.add(p);
    }
  }
  return [...out].sort((a, b) => b.length - a.length);
}

/**
 * Follows internal `$ref`s (`#/components/...`) of a non-schema object
 * (parameter, request body, response); throws on a dangling or external one.
 */
export function deref(d: OpenApiDocument, node: unknown, where: string): unknown {
  let cur = node;
  for (let hops = 0; isObj(cur) && typeof cur.$ref === 'string'; hops++) {
    const ref = cur.$ref;
    if (hops > 20) throw new SchemaProblem(d.file, where, `$ref "${ref}" is part of a cycle`);
    const local = ref.startsWith(d.uri + '#') ? ref.slice(d.uri.length) : ref;
    if (!local.startsWith('#')) throw new SchemaProblem(d.file, where, `$ref "${ref}": only internal references are supported outside schemas`);
    cur = pointerGet(d.doc, local.slice(1));
    if (cur === undefined) throw new SchemaProblem(d.file, where, `$ref "${ref}" points to nothing in the document`);
  }
  return cur;
}

/** Resolves a JSON pointer (without `#`) in a document; undefined when absent. */
export function pointerGet(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let cur = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const key = decodeURIComponent(raw).replaceAll('~1', '/').replaceAll('~0', '~');
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isObj(cur)) cur = Object.hasOwn(cur, key) ? cur[key] : undefined;
    else return undefined;
  }
  return cur;
}

/** Keywords whose value is a map of name → schema. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
/** Keywords whose value is one schema. */
const SCHEMA_ONE = new Set(['items', 'additionalProperties', 'not', 'contains', 'propertyNames', 'if', 'then', 'else', 'unevaluatedProperties', 'unevaluatedItems', 'additionalItems']);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LIST = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);

/**
 * A schema of the document as JSON Schema 2020-12: 3.0's `nullable: true`
 * adds `null` to `type` (and to `enum`), boolean exclusive bounds become
 * numeric ones; internal `$ref`s are made absolute (`<doc uri>#/...`).
 */
export function convertSchema(s: unknown, v30: boolean, uri: string): unknown {
  if (!isObj(s)) return s;
  const out: Obj = {};
  for (const [k, v] of Object.entries(s)) {
    if (SCHEMA_MAPS.has(k) && isObj(v)) {
      const m: Obj = {};
      for (const [name, sub] of Object.entries(v)) m[name] = convertSchema(sub, v30, uri);
      out[k] = m;
    } else if (SCHEMA_ONE.has(k)) out[k] = Array.isArray(v) ? v.map((x) => convertSchema(x, v30, uri)) : convertSchema(v, v30, uri);
    else if (SCHEMA_LIST.has(k) && Array.isArray(v)) out[k] = v.map((x) => convertSchema(x, v30, uri));
    else if (k === '$ref' && typeof v === 'string' && v.startsWith('#')) out[k] = uri + v;
    else out[k] = v;
  }
  if (!v30) return out;
  if (out.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.type) && !out.type.includes('null')) out.type = [...out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
  }
  delete out.nullable;
  for (const [flag, bound] of [['exclusiveMinimum', 'minimum'], ['exclusiveMaximum', 'maximum']] as const) {
    if (out[flag] === true && typeof out[bound] === 'number') {
      out[flag] = out[bound];
      delete out[bound];
    } else if (typeof out[flag] === 'boolean') delete out[flag];
  }
  return out;
}

/** Converts every schema position of the document (components, parameters, bodies, responses, headers). */
function convertDocument(raw: Obj, v30: boolean, uri: string): Obj {
  const conv = (s: unknown): unknown => convertSchema(s, v30, uri);
  const media = (content: unknown): unknown => mapObj(content, (m) => (isObj(m) ? { ...m, schema: conv(m.schema) } : m));
  const withSchema = (p: unknown): unknown => (isObj(p) && p.schema !== undefined ? { ...p, schema: conv(p.schema) } : p);
  const response = (r: unknown): unknown => (isObj(r) ? { ...r, content: media(r.content), headers: mapObj(r.headers, withSchema) } : r);
  const body = (b: unknown): unknown => (isObj(b) ? { ...b, content: media(b.content) } : b);
  const params = (list: unknown): unknown => (Array.isArray(list) ? list.map(withSchema) : list);
  const doc: Obj = { ...raw };
  if (isObj(raw.components)) {
    const c = raw.components;
    doc.components = {
      ...c,
      schemas: mapObj(c.schemas, conv),
      parameters: mapObj(c.parameters, withSchema),
      headers: mapObj(c.headers, withSchema),
      requestBodies: mapObj(c.requestBodies, body),
      responses: mapObj(c.responses, response),
    };
  }
  doc.paths = mapObj(raw.paths, (item) => {
    if (!isObj(item)) return item;
    const out: Obj = { ...item, parameters: params(item.parameters) };
    for (const m of OPENAPI_METHODS) {
      const op = item[m];
      if (!isObj(op)) continue;
      out[m] = { ...op, parameters: params(op.parameters), requestBody: body(op.requestBody), responses: mapObj(op.responses, response) };
    }
    return out;
  });
  return doc;
}

function mapObj(v: unknown, f: (x: unknown) => unknown): unknown {
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) out[k] = f(x);
  return out;
}
