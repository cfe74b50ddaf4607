/**
 * The transform kind's config: its JSON Schema fragment and the checks the
 * schema cannot express (paths parse, templates compile, sets and renames
 * do not contradict each other, status mappings keep body semantics).
 */
import type { ConfigPath } from '../../config/issues.js';
import { tryParseSize } from '../../config/units.js';
import { inlineRouteParams } from '../headers/schema.js';
import { templateParams, TemplateError } from '../headers/template.js';
import type { IssueSink } from '../types.js';
import { sameParent, setTemplate, type JsonOpsConfig } from './json-ops.js';
import { overlaps, parsePath, PathError, pathText, type Step } from './json-path.js';

/** `{ transform: <this> }` as written in the config file (schema- and check-valid). */
export interface TransformConfig {
  /** Largest body transformed (after decoding). Default 1mb. */
  readonly maxBody?: string | number;
  /** A response body over maxBody: pass (sent untransformed, counted) or fail (502). Default pass. */
  readonly oversize?: 'pass' | 'fail';
  readonly request?: { readonly json: JsonOpsConfig };
  readonly response?: { readonly json?: JsonOpsConfig; readonly status?: Readonly<Record<string, number>> };
}

type Obj = Record<string, unknown>;

const PATH_HINT = 'field paths: dotted names, [] for every element of an array (items[].id)';

const jsonOps = (side: string): Obj => ({
  type: 'object',
  description: `JSON edits of the ${side} body, applied in the order allow → remove → rename → set; ${PATH_HINT}.`,
  additionalProperties: false,
  minProperties: 1,
  'x-message': { minProperties: 'must hold at least one of allow, remove, rename, set' },
  properties: {
    allow: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'Projection: only these paths are kept (* globs per step, e.g. address.*).' },
    remove: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'Paths removed (* globs per step, e.g. password*).' },
    rename: { type: 'object', minProperties: 1, additionalProperties: { type: 'string', minLength: 1, 'x-message': 'must be the new path' }, description: 'Old path → new path (like mv; the value moves, an existing target is replaced).' },
    set: { type: 'object', minProperties: 1, description: 'Path → JSON value; strings may use ${client_ip}, ${route}, ${request_id}, ${method}, ${path}, ${param.NAME}, ${query.NAME}, ${header.NAME}, ${consumer.id}, ${consumer.username}.' },
  },
});

/** JSON Schema (2020-12) of `{ transform: <this> }`. */
export const transformSchema: Readonly<Obj> = {
  type: 'object',
  description: 'Reshapes JSON request and response bodies (projection, removal, renames, set fields) and maps response statuses.',
  additionalProperties: false,
  properties: {
    maxBody: { $ref: '#/$defs/size', description: 'Largest body transformed, after decoding (default 1mb): a larger request is refused (413), a larger response passes untransformed (or fails, see oversize).' },
    oversize: { enum: ['pass', 'fail'], 'x-message': 'must be pass or fail', description: 'A response body over maxBody: pass (sent untransformed, counted; default) or fail (502 upstream_response_too_large).' },
    request: {
      type: 'object', additionalProperties: false, required: ['json'],
      'x-message': { required: 'must hold a json block' },
      properties: { json: jsonOps('request') },
    },
    response: {
      type: 'object', additionalProperties: false, minProperties: 1,
      'x-message': { minProperties: 'must hold a json block or a status map' },
      properties: {
        json: jsonOps('response'),
        status: {
          type: 'object', minProperties: 1,
          description: 'Upstream status → status sent to the client (e.g. 201: 200).',
          propertyNames: { pattern: '^[2-5][0-9][0-9]$', 'x-message': 'must be a status code from 200 to 599' },
          additionalProperties: { type: 'integer', minimum: 200, maximum: 599, 'x-message': 'must be a status code from 200 to 599' },
        },
      },
    },
  },
};

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Semantic checks of a transform config at `at` (its schema may have failed: every access is defensive). */
export function checkTransform(config: unknown, at: ConfigPath, issue: IssueSink, gateway: Readonly<Obj>): void {
  if (!isObj(config)) return;
  const params = inlineRouteParams(at, gateway);
  if (config.request === undefined && config.response === undefined) issue(at, 'must hold a request or a response block');
  if (config.maxBody !== undefined && tryParseSize(config.maxBody) === 0) issue([...at, 'maxBody'], 'must be more than 0 bytes');
  if (isObj(config.request) && isObj(config.request.json)) checkOps(config.request.json, [...at, 'request', 'json'], params, issue);
  if (!isObj(config.response)) return;
  if (isObj(config.response.json)) checkOps(config.response.json, [...at, 'response', 'json'], params, issue);
  if (isObj(config.response.status)) {
    for (const [from, to] of Object.entries(config.response.status)) {
      if (from === '204' || from === '304' || to === 204 || to === 304) issue([...at, 'response', 'status', from], '204 and 304 have no body: they cannot be mapped from or to');
      else if (String(to) === from) issue([...at, 'response', 'status', from], 'maps a status to itself');
    }
  }
}

/** Parses a path, reporting why it does not parse (null then). */
function path(text: unknown, globs: boolean, at: ConfigPath, issue: IssueSink): Step[] | null {
  if (typeof text !== 'string' || text === '') return null; // the schema says why
  try {
    return parsePath(text, globs);
  } catch (err) {
    if (err instanceof PathError) { issue(at, err.message); return null; }
    throw err;
  }
}

/** Paths that name one field (rename and set): no `[]` at the end. */
function fieldPath(text: string, at: ConfigPath, issue: IssueSink): Step[] | null {
  const steps = path(text, false, at, issue);
  if (steps === null) return null;
  if (steps[steps.length - 1].each > 0) { issue(at, `"${text}": must end with a field name, not "[]"`); return null; }
  return steps;
}

function checkOps(ops: Obj, at: ConfigPath, params: string[] | null, issue: IssueSink): void {
  for (const op of ['allow', 'remove'] as const) {
    const list = ops[op];
    if (Array.isArray(list)) list.forEach((p: unknown, i: number) => path(p, true, [...at, op, i], issue));
  }
  if (isObj(ops.rename)) checkRenames(ops.rename as Readonly<Record<string, unknown>>, [...at, 'rename'], issue);
  if (isObj(ops.set)) checkSets(ops.set, [...at, 'set'], params, issue);
}

function checkRenames(rename: Readonly<Record<string, unknown>>, at: ConfigPath, issue: IssueSink): void {
  const targets = new Map<string, string>();
  for (const [from, to] of Object.entries(rename)) {
    const p = [...at, from];
    const f = fieldPath(from, p, issue);
    const t = typeof to === 'string' ? fieldPath(to, p, issue) : null;
    if (f === null || t === null) continue;
    if (pathText(f) === pathText(t)) { issue(p, `renames "${from}" to itself`); continue; }
    if (!sameParent(f, t) && (f.some((s) => s.each > 0) || t.some((s) => s.each > 0))) {
      issue(p, `"${from}" → "${String(to)}": a rename inside arrays ([]) must keep the field in the same object (e.g. items[].a: items[].b)`);
    }
    const other = targets.get(pathText(t));
    if (other !== undefined) issue(p, `"${other}" is renamed to "${String(to)}" too; each path can be the target of one rename`);
    targets.set(pathText(t), from);
  }
}

/** Sets: paths, overlaps, templates; an inline policy's `${param.NAME}` must exist on its route (`params`; null for a named policy). */
function checkSets(set: Obj, at: ConfigPath, params: string[] | null, issue: IssueSink): void {
  const done: Array<[string, Step[]]> = [];
  for (const [text, value] of Object.entries(set)) {
    const p = [...at, text];
    const steps = fieldPath(text, p, issue);
    if (steps === null) continue;
    // why: a set of `a` and of `a.b` would write into the configured value itself.
    const clash = done.find(([, s]) => overlaps(s, steps));
    if (clash !== undefined) issue(p, `overlaps "${clash[0]}" (one is inside the other); set the whole value once`);
    done.push([text, steps]);
    try {
      const t = setTemplate(value);
      if (t !== null && params !== null) {
        for (const n of templateParams(t)) if (!params.includes(n)) issue(p, `"\${param.${n}}": the route's path has no ${n === '*' ? 'wildcard *' : `param :${n}`}`);
      }
    } catch (err) {
      if (err instanceof TemplateError) issue(p, err.message);
      else throw err;
    }
  }
}
