import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import schema from './gateway.schema.json' with { type: 'json' };
import type { ConfigPath, IssueList } from './issues.js';
import { POLICY_FACTORIES } from '../policies/registry.js';
import type { PolicyFactory } from '../policies/types.js';

/**
 * The JSON Schema of the user-facing (un-normalised) config file: the base
 * schema with every registered policy kind's fragment composed into
 * `$defs.policy` (so a policy's config errors name file, line and path like
 * any other).
 */
export const gatewaySchema: Readonly<Record<string, unknown>> = composeGatewaySchema(schema, POLICY_FACTORIES);

/** The base schema plus one `$defs.policy.properties.<kind>` per policy kind. */
export function composeGatewaySchema(base: Readonly<Record<string, unknown>>, kinds: readonly PolicyFactory[]): Record<string, unknown> {
  const out = structuredClone(base) as { $defs: { policy: { properties: Record<string, unknown> } } };
  for (const k of kinds) out.$defs.policy.properties[k.name] = structuredClone(k.schema);
  return out;
}

let compiled: ValidateFunction | null = null;

/**
 * Returns the compiled schema validator (compiled once, on first use).
 * The schema carries its own error texts in the non-standard `x-message`
 * keyword: a string (used for any failing keyword of that subschema) or an
 * object keyed by keyword name.
 */
export function schemaValidator(): ValidateFunction {
  if (compiled !== null) return compiled;
  const ajv = new Ajv2020({ allErrors: true, verbose: true, allowUnionTypes: true, strict: true, strictRequired: false });
  ajv.addKeyword({ keyword: 'x-message', schemaType: ['string', 'object'] });
  compiled = ajv.compile(gatewaySchema);
  return compiled;
}

/**
 * Validates the parsed YAML against the schema and adds one issue per problem,
 * with paths in the user's terms (`routes[3].match.path`). The schema avoids
 * anyOf/oneOf on purpose (it uses union types and if/then/else), so each ajv
 * error maps to one meaningful message; the bookkeeping `if` errors are dropped.
 *
 * @param data the parsed YAML (plain JS values).
 * @param issues where to add problems.
 * @returns true when the data matches the schema.
 */
export function checkSchema(data: unknown, issues: IssueList): boolean {
  const validate = schemaValidator();
  if (validate(data)) return true;
  for (const err of validate.errors ?? []) {
    if (err.keyword === 'if' || err.keyword === 'propertyNames') continue;
    const path = toPath(data, err.instancePath);
    const custom = customMessage(err);
    if (err.propertyName !== undefined) {
      // A propertyNames failure: point at the offending key itself.
      issues.add([...path, err.propertyName], custom ?? 'is not a valid name', true);
    } else if (err.keyword === 'additionalProperties') {
      const field = String(err.params.additionalProperty);
      issues.add([...path, field], unknownField(field, err.parentSchema), true);
    } else if (err.keyword === 'required' && custom === undefined) {
      issues.add([...path, String(err.params.missingProperty)], 'is required');
    } else {
      issues.add(path, custom ?? defaultMessage(err));
    }
  }
  return false;
}

/** Turns an ajv instancePath (`/routes/3/match/path`) into path segments, using the data to tell indexes from keys. */
function toPath(data: unknown, pointer: string): ConfigPath {
  if (pointer === '') return [];
  const out: Array<string | number> = [];
  let node: unknown = data;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out.push(Number(seg));
      node = node[Number(seg)];
    } else {
      out.push(seg);
      node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
}

function customMessage(err: ErrorObject): string | undefined {
  const x = (err.parentSchema as Record<string, unknown> | undefined)?.['x-message'];
  if (typeof x === 'string') return x;
  if (typeof x === 'object' && x !== null) {
    const byKeyword = (x as Record<string, unknown>)[err.keyword];
    if (typeof byKeyword === 'string') return byKeyword;
  }
  return undefined;
}

const ARTICLE: Record<string, string> = {
  object: 'an object', array: 'a list', string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false',
};

function defaultMessage(err: ErrorObject): string {
  const p = err.params as Record<string, unknown>;
  switch (err.keyword) {
    case 'type': {
      // null is only accepted as "empty section"; naming it would confuse more than help.
      const types = String(p.type).split(',').filter((t, _, all) => t !== 'null' || all.length === 1);
      return `must be ${types.map((t) => ARTICLE[t] ?? t).join(' or ')}`;
    }
    case 'enum':
      return `must be one of: ${(p.allowedValues as unknown[]).map(String).join(', ')}`;
    case 'minItems':
      return `must have at least ${String(p.limit)} ${p.limit === 1 ? 'item' : 'items'}`;
    case 'minLength':
      return p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters`;
    case 'not':
      return 'is not allowed here';
    default:
      return err.message ?? 'is invalid';
  }
}

/** "unknown field", with a suggestion when the typo is close to a known field. */
function unknownField(field: string, parentSchema: unknown): string {
  const props = (parentSchema as { properties?: Record<string, unknown> } | undefined)?.properties;
  const known = props ? Object.keys(props) : [];
  let best = '';
  let bestDistance = Infinity;
  for (const name of known) {
    const d = editDistance(field.toLowerCase(), name.toLowerCase());
    if (d < bestDistance) { best = name; bestDistance = d; }
  }
  const near = bestDistance <= Math.max(1, Math.floor(best.length / 3));
  const hint = near ? ` (did you mean "${best}"?)` : known.length > 0 ? ` (expected one of: ${known.join(', ')})` : '';
  return `unknown field${hint}`;
}

/** Edit distance counting a swap of neighbours as one edit (optimal string alignment); inputs are short. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
