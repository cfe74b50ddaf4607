/**
 * `turnpike import-openapi SPEC --upstream NAME`: the routes an OpenAPI
 * 3.0/3.1 document implies, as YAML ready to paste under `routes:` (one
 * route per path template, with the methods of its operations; a route per
 * operation when the operations of one path carry operationIds, so each
 * gets its own `validate` policy naming the operation).
 */
import { resolve } from 'node:path';
import { stringify } from 'yaml';
import { OPENAPI_METHODS, readOpenApi } from '../policies/validate/openapi-document.js';
import { compileTemplate, toRoutePattern } from '../policies/validate/path-template.js';
import { isObj } from '../policies/validate/schema-loader.js';

/** Options of the import. */
export interface ImportOptions {
  /** The upstream every route goes to. */
  readonly upstream: string;
  /** The document path written into the `validate` policies (default: the path given). */
  readonly specPath?: string;
  /** Add a `validate` policy to each route (default true). */
  readonly validate?: boolean;
}

/** One generated route. */
interface RouteOut {
  name: string;
  match: { path: string; methods: string[] };
  upstream: string;
  policies?: Array<{ validate: { openapi: string; operation: string } }>;
}

/** `listPets` → `list-pets`; anything outside the route name alphabet becomes `-`. */
export function routeName(text: string): string {
  const kebab = text.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase().replace(/[^a-z0-9_.-]+/g, '-').replace(/^-+|-+$/g, '');
  return (kebab === '' ? 'route' : kebab).slice(0, 120);
}

/**
 * Builds the YAML text (a comment header, then a YAML list of routes).
 *
 * @throws SchemaProblem when the file is not a readable OpenAPI 3.x document.
 */
export function importOpenApi(specFile: string, options: ImportOptions): string {
  const d = readOpenApi(resolve(specFile));
  const specPath = options.specPath ?? specFile;
  const withValidate = options.validate !== false;
  const routes: RouteOut[] = [];
  const skipped: string[] = [];
  const used = new Set<string>();
  const unique = (name: string): string => {
    let n = name;
    for (let i = 2; used.has(n); i++) n = `${name}-${i}`;
    used.add(n);
    return n;
  };
  for (const [path, item] of Object.entries(d.doc.paths as Record<string, unknown>)) {
    if (!isObj(item)) continue;
    let pattern: string | null;
    try {
      pattern = toRoutePattern(compileTemplate(path));
    } catch {
      pattern = null;
    }
    if (pattern === null) { skipped.push(`${path} (a path param that is not a whole segment)`); continue; }
    for (const m of OPENAPI_METHODS) {
      const op = item[m];
      if (!isObj(op)) continue;
      const id = typeof op.operationId === 'string' ? op.operationId : '';
      const route: RouteOut = {
        name: unique(routeName(id !== '' ? id : `${m}-${path}`)),
        match: { path: pattern, methods: [m.toUpperCase()] },
        upstream: options.upstream,
      };
      // why: `operation: auto` would work too; naming the operation skips the per-request lookup.
      if (withValidate) route.policies = [{ validate: { openapi: specPath, operation: id !== '' ? id : 'auto' } }];
      routes.push(route);
    }
  }
  const info = isObj(d.doc.info) ? d.doc.info : {};
  const title = typeof info.title === 'string' ? `: ${info.title}` : '';
  const header = [
    `# Routes implied by ${specFile} (OpenAPI ${String(d.doc.openapi)}${title}), upstream "${options.upstream}".`,
    '# Paste under `routes:`; the validate policies name the document relative to the config file\'s directory',
    '# (set it with --spec-path when the config lives elsewhere).',
    ...skipped.map((s) => `# skipped: ${s}`),
  ];
  return header.join('\n') + '\n' + (routes.length === 0 ? '[]\n' : stringify(routes, { flowCollectionPadding: true, lineWidth: 0 }));
}
