/**
 * JSON Schema 2020-12 compilation for the validate kind: one ajv pair per
 * worker (a coercing one for query, headers and path params, whose values
 * arrive as strings, and a strict one for bodies), the formats of
 * ajv-formats when installed, and schema files with `$ref`s to other files
 * loaded up front. Every problem (unreadable file, `$ref` to a missing file,
 * unknown format, invalid schema) is a {@link SchemaProblem} naming the file
 * and the JSON pointer inside it, reported at config load.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { extname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parse as parseYaml } from 'yaml';

type Obj = Record<string, unknown>;

/** A schema that cannot be used: `file` and `pointer` say where (pointer '' = the whole file). */
export class SchemaProblem extends Error {
  constructor(readonly file: string, readonly pointer: string, message: string) {
    super(message);
    this.name = 'SchemaProblem';
  }
}

type AddFormats = (ajv: Ajv2020) => unknown;

function loadFormatsPlugin(): AddFormats | null {
  try {
    const m = createRequire(import.meta.url)('ajv-formats') as AddFormats | { default: AddFormats };
    return typeof m === 'function' ? m : m.default;
  } catch {
    return null;
  }
}

/** ajv-formats' plugin, or null when it is not installed (then only the formats ajv itself knows are valid). */
export const FORMATS_PLUGIN: AddFormats | null = loadFormatsPlugin();

/** The two ajv instances of one worker (or one config check) and the files already registered in them. */
export class SchemaCompiler {
  /** Coerces strings to the schema's types (`coerceTypes: 'array'`: repeated query params form arrays). */
  readonly coercing: Ajv2020;
  /** Bodies: JSON values are taken as they are. */
  readonly strict: Ajv2020;
  private readonly files = new Set<string>();
  private inline = 0;

  constructor() {
    this.coercing = newAjv(true);
    this.strict = newAjv(false);
  }

  /**
   * Compiles a schema written inline (in the config or an OpenAPI document).
   * `base` is the file URL relative `$ref`s resolve against; `display` names
   * where it was written for messages.
   */
  compileInline(schema: unknown, base: string, display: string, coerce: boolean): ValidateFunction {
    if (typeof schema === 'boolean') return this.ajv(coerce).compile(schema);
    if (!isObj(schema)) throw new SchemaProblem(display, '', 'must be a JSON Schema (an object or a boolean)');
    const id = typeof schema.$id === 'string' ? schema.$id : new URL(`__turnpike-inline-${this.inline++}.json`, base).href;
    const root = typeof schema.$id === 'string' ? schema : { ...schema, $id: id };
    this.prepare(root, id, base, display, '');
    return this.compile(root, display, coerce);
  }

  /** Compiles the schema in a file (JSON, or YAML by extension), loading the files it references. */
  compileFile(absPath: string, display: string, coerce: boolean): ValidateFunction {
    const url = pathToFileURL(absPath).href;
    if (!this.files.has(url)) {
      const schema = readSchemaFile(absPath, display);
      this.files.add(url);
      if (isObj(schema)) this.prepare(schema, typeof schema.$id === 'string' ? schema.$id : url, url, display, '');
      this.register(schema, url, display);
    }
    try {
      const fn = this.ajv(coerce).getSchema(url);
      if (fn === undefined) throw new Error('the schema did not compile');
      return fn;
    } catch (err) {
      throw new SchemaProblem(display, '', (err as Error).message.split('\n')[0]);
    }
  }

  /**
   * Registers a schema document under `uri` in both instances (an OpenAPI
   * document's components), loading the files it references.
   */
  addDocument(doc: Obj, uri: string, display: string): void {
    if (this.files.has(uri)) return;
    this.files.add(uri);
    this.prepare(doc, uri, uri, display, '');
    this.register(doc, uri, display);
  }

  private register(schema: Obj | boolean, uri: string, display: string): void {
    try {
      this.coercing.addSchema(schema, uri);
      this.strict.addSchema(schema, uri);
    } catch (err) {
      throw new SchemaProblem(display, '', (err as Error).message.split('\n')[0]);
    }
  }

  private ajv(coerce: boolean): Ajv2020 {
    return coerce ? this.coercing : this.strict;
  }

  private compile(schema: Obj, display: string, coerce: boolean): ValidateFunction {
    try {
      return this.ajv(coerce).compile(schema);
    } catch (err) {
      throw new SchemaProblem(display, '', (err as Error).message.split('\n')[0]);
    }
  }

  /**
   * Walks a schema: every `format` must be known, and every `$ref` to
   * another file is loaded and registered (recursively). `idBase` is the URI
   * ajv resolves relative refs against; `diskBase` the file URL the files are
   * read relative to (they differ when the schema declares its own `$id`).
   */
  private prepare(node: unknown, idBase: string, diskBase: string, display: string, pointer: string): void {
    if (Array.isArray(node)) {
      node.forEach((v, i) => this.prepare(v, idBase, diskBase, display, pointer + '/' + i));
      return;
    }
    if (!isObj(node)) return;
    for (const [key, value] of Object.entries(node)) {
      const at = pointer + '/' + key.replaceAll('~', '~0').replaceAll('/', '~1');
      if (key === 'format' && typeof value === 'string' && this.strict.formats[value] === undefined) {
        const hint = FORMATS_PLUGIN === null ? ' (ajv-formats is not installed: no formats are known)' : '';
        throw new SchemaProblem(display, at, `unknown format "${value}"${hint}`);
      }
      if (key === '$ref' && typeof value === 'string' && !value.startsWith('#')) this.loadRef(value, idBase, diskBase, display, at);
      // why: enum/const/default/examples hold data, not schemas: a "$ref" key there is a value.
      if (key === 'enum' || key === 'const' || key === 'default' || key === 'examples' || key === 'example') continue;
      this.prepare(value, idBase, diskBase, display, at);
    }
  }

  private loadRef(ref: string, idBase: string, diskBase: string, display: string, at: string): void {
    let idUri: URL; let diskUri: URL;
    try {
      idUri = new URL(ref, idBase);
      diskUri = new URL(ref, diskBase);
    } catch {
      throw new SchemaProblem(display, at, `$ref "${ref}" is not a valid URI reference`);
    }
    idUri.hash = '';
    diskUri.hash = '';
    if (this.files.has(idUri.href)) return;
    if (diskUri.protocol !== 'file:') throw new SchemaProblem(display, at, `$ref "${ref}": only references to local files are supported`);
    const path = fileURLToPath(diskUri);
    let schema: Obj | boolean;
    try {
      schema = readSchemaFile(path, path);
    } catch (err) {
      const reason = err instanceof SchemaProblem ? err.message : String(err);
      throw new SchemaProblem(display, at, `$ref "${ref}": ${reason}`);
    }
    this.files.add(idUri.href);
    if (isObj(schema)) {
      const ownId = typeof schema.$id === 'string' ? schema.$id : idUri.href;
      this.prepare(schema, ownId, diskUri.href, path, '');
    }
    this.register(schema, idUri.href, path);
  }
}

function newAjv(coerce: boolean): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    // why: OpenAPI documents and hand-written schemas carry keywords ajv does
    // not know (example, discriminator, x-*); they are annotations. Unknown
    // formats are still refused, by SchemaCompiler's own walk.
    strictSchema: false,
    strictTypes: false,
    strictTuples: false,
    strictRequired: false,
    allowUnionTypes: true,
    coerceTypes: coerce ? 'array' : false,
    logger: false,
  });
  if (FORMATS_PLUGIN !== null) FORMATS_PLUGIN(ajv);
  return ajv;
}

/** Reads a JSON (or YAML: .yaml/.yml) schema file; SchemaProblem on a missing or malformed file. */
export function readSchemaFile(absPath: string, display: string): Obj | boolean {
  let text: string;
  try {
    text = readFileSync(absPath, 'utf8');
  } catch (err) {
    throw new SchemaProblem(display, '', `cannot read ${absPath} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let value: unknown;
  try {
    const ext = extname(absPath).toLowerCase();
    value = ext === '.yaml' || ext === '.yml' ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new SchemaProblem(display, '', `${absPath} is not valid ${/\.ya?ml$/i.test(absPath) ? 'YAML' : 'JSON'}: ${(err as Error).message.split('\n')[0]}`);
  }
  if (typeof value !== 'boolean' && !isObj(value)) throw new SchemaProblem(display, '', `${absPath} does not hold a JSON Schema (an object or a boolean)`);
  return value;
}

/** A plain object (not an array, not null). */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
