/**
 * The operations of an OpenAPI document as compiled checks: per operation,
 * one object schema each for path params, query params and header params
 * (built from the parameter list, path-item level merged under operation
 * level), the JSON request body, and (for the response monitor) the JSON
 * response schemas by status. An operation table matches a request by
 * method and path template (segment walk, literal templates first).
 */
import type { ValidateFunction } from 'ajv';
import { isJsonType, type OperationCheck } from './part-checks.js';
import { compileTemplate, matchTemplate, type PathTemplate } from './path-template.js';
import { deref, OPENAPI_METHODS, type OpenApiDocument } from './openapi-document.js';
import { isObj, SchemaProblem, type SchemaCompiler } from './schema-loader.js';

type Obj = Record<string, unknown>;

/** Header params OpenAPI says to ignore (they are described elsewhere). */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

/** One operation of the document. */
export interface OpenApiOperation {
  /** Upper-case method. */
  readonly method: string;
  readonly template: PathTemplate;
  /** operationId ('' when the document gives none). */
  readonly operationId: string;
  readonly check: OperationCheck;
}

/** What to compile. */
export interface OperationOptions {
  /** Compile response schemas (monitor mode). */
  readonly responses: boolean;
  /** Only this operationId (null: every operation). */
  readonly only: string | null;
}

/** Compiles the operations of a document (every one, or the one named). */
export function compileOperations(d: OpenApiDocument, compiler: SchemaCompiler, options: OperationOptions): OpenApiOperation[] {
  compiler.addDocument(d.doc, d.uri, d.file);
  const out: OpenApiOperation[] = [];
  for (const [path, rawItem] of Object.entries(d.doc.paths as Obj)) {
    const item = deref(d, rawItem, '/paths/' + escape(path));
    if (!isObj(item)) continue;
    let template: PathTemplate;
    try {
      template = compileTemplate(path);
    } catch (err) {
      throw new SchemaProblem(d.file, '/paths/' + escape(path), (err as Error).message);
    }
    for (const m of OPENAPI_METHODS) {
      const op = item[m];
      if (!isObj(op)) continue;
      const operationId = typeof op.operationId === 'string' ? op.operationId : '';
      if (options.only !== null && operationId !== options.only) continue;
      const where = '/paths/' + escape(path) + '/' + m;
      const id = operationId !== '' ? operationId : m.toUpperCase() + ' ' + path;
      out.push({ method: m.toUpperCase(), template, operationId, check: compileOperation(d, compiler, id, item, op, where, options.responses) });
    }
  }
  return out;
}

function compileOperation(d: OpenApiDocument, compiler: SchemaCompiler, id: string, item: Obj, op: Obj, where: string, responses: boolean): OperationCheck {
  const params = new Map<string, Obj>();
  for (const [list, at] of [[item.parameters, where.slice(0, where.lastIndexOf('/'))], [op.parameters, where]] as const) {
    if (!Array.isArray(list)) continue;
    list.forEach((raw, i) => {
      const p = deref(d, raw, `${at}/parameters/${i}`);
      if (isObj(p) && typeof p.name === 'string' && typeof p.in === 'string') params.set(p.in + ':' + (p.in === 'header' ? p.name.toLowerCase() : p.name), p);
    });
  }
  const groups: Record<string, { props: Obj; required: string[]; delimiters: Map<string, string> }> = {};
  for (const p of params.values()) {
    const where_ = p.in as string;
    if (where_ === 'cookie') continue;
    const name = where_ === 'header' ? (p.name as string).toLowerCase() : p.name as string;
    if (where_ === 'header' && IGNORED_HEADERS.has(name)) continue;
    const g = (groups[where_] ??= { props: {}, required: [], delimiters: new Map() });
    g.props[name] = p.schema ?? {};
    if (p.required === true || where_ === 'path') g.required.push(name);
    const schema = p.schema;
    if (where_ === 'query' && isObj(schema) && (schema.type === 'array' || (Array.isArray(schema.type) && schema.type.includes('array'))) && p.explode === false) {
      g.delimiters.set(name, p.style === 'spaceDelimited' ? ' ' : p.style === 'pipeDelimited' ? '|' : ',');
    }
  }
  const objectSchema = (g: { props: Obj; required: string[] }): Obj => ({ type: 'object', properties: g.props, required: g.required });
  const compile = (schema: unknown, at: string, coerce: boolean): ValidateFunction => {
    try {
      return compiler.compileInline(schema, d.uri, d.file, coerce);
    } catch (err) {
      if (err instanceof SchemaProblem && err.pointer === '') throw new SchemaProblem(d.file, at, err.message);
      throw err;
    }
  };
  const g = groups;
  const headers = g.header === undefined ? null
    : { required: [], validate: compile(objectSchema(g.header), where + '/parameters', true), names: Object.keys(g.header.props) };
  const query = g.query === undefined ? null
    : { validate: compile(objectSchema(g.query), where + '/parameters', true), delimiters: g.query.delimiters.size > 0 ? g.query.delimiters : null };
  let body = null;
  if (op.requestBody !== undefined) {
    const rb = deref(d, op.requestBody, where + '/requestBody');
    const schema = isObj(rb) ? jsonSchemaOf(rb.content) : undefined;
    if (schema !== undefined) body = { validate: compile(schema, where + '/requestBody', false), required: isObj(rb) && rb.required === true };
  }
  let responseMap: Map<string, ValidateFunction> | null = null;
  if (responses && isObj(op.responses)) {
    responseMap = new Map();
    for (const [status, raw] of Object.entries(op.responses)) {
      const r = deref(d, raw, `${where}/responses/${status}`);
      const schema = isObj(r) ? jsonSchemaOf(r.content) : undefined;
      if (schema !== undefined) responseMap.set(status.toUpperCase(), compile(schema, `${where}/responses/${status}`, false));
    }
    if (responseMap.size === 0) responseMap = null;
  }
  return {
    id,
    params: g.path === undefined ? null : compile(objectSchema(g.path), where + '/parameters', true),
    query, headers, body, responses: responseMap,
  };
}

/** The schema of the first JSON media type of a `content` map (undefined when none). */
function jsonSchemaOf(content: unknown): unknown {
  if (!isObj(content)) return undefined;
  for (const [type, media] of Object.entries(content)) {
    if (isJsonType(type) && isObj(media)) return media.schema ?? {};
  }
  return undefined;
}

function escape(s: string): string {
  return s.replaceAll('~', '~0').replaceAll('/', '~1');
}

/**
 * The operations by method, for matching a request (`operation: auto`):
 * templates with more literal segments first, so `/pets/mine` beats
 * `/pets/{id}`.
 */
export class OperationTable {
  private readonly byMethod = new Map<string, OpenApiOperation[]>();

  constructor(ops: readonly OpenApiOperation[], private readonly basePaths: readonly string[]) {
    for (const op of ops) {
      let list = this.byMethod.get(op.method);
      if (list === undefined) this.byMethod.set(op.method, (list = []));
      list.push(op);
    }
    for (const list of this.byMethod.values()) list.sort((a, b) => b.template.literals - a.template.literals);
  }

  /**
   * The operation for a request, with its raw path param values in `out`
   * (cleared first); null when none matches. HEAD falls back to GET. The
   * path is tried as is, then without each server base path.
   */
  match(method: string, path: string, out: string[]): OpenApiOperation | null {
    let list = this.byMethod.get(method);
    if (list === undefined && method === 'HEAD') list = this.byMethod.get('GET');
    if (list === undefined) return null;
    const found = matchIn(list, path, 0, out);
    if (found !== null) return found;
    for (let b = 0; b < this.basePaths.length; b++) {
      const base = this.basePaths[b];
      if (path.length > base.length && path.startsWith(base) && path.charCodeAt(base.length) === 47) {
        const r = matchIn(list, path, base.length, out);
        if (r !== null) return r;
      }
    }
    return null;
  }
}

function matchIn(list: readonly OpenApiOperation[], path: string, start: number, out: string[]): OpenApiOperation | null {
  for (let i = 0; i < list.length; i++) {
    out.length = 0;
    if (matchTemplate(list[i].template, path, start, out)) return list[i];
  }
  return null;
}
