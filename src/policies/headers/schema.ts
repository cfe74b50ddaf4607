/**
 * The headers kind's config: a `request` and/or a `response` block of
 * set/add/remove/rename, and the checks the schema cannot express (templates
 * compile, names the gateway owns are left alone, edits do not contradict).
 */
import type { ConfigPath } from '../../config/issues.js';
import type { IssueSink } from '../types.js';
import { compileTemplate, templateParams, TemplateError } from './template.js';

type Obj = Record<string, unknown>;

/** RFC 9110 §5.6.2 token, the syntax of a field name. */
const TOKEN_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
const NAME_MESSAGE = 'is not a valid header name (RFC 9110 token: letters, digits and !#$%&\'*+.^_`|~-)';

const headerName = { type: 'string', pattern: TOKEN_PATTERN, 'x-message': NAME_MESSAGE };

const valueMap = (what: string): Obj => ({
  type: 'object',
  description: `Header name → value template (${what}). Values may use \${client_ip}, \${route}, \${request_id}, \${method}, \${path}, \${param.NAME}, \${query.NAME}, \${header.NAME}, \${consumer.id}, \${consumer.username}.`,
  propertyNames: { pattern: TOKEN_PATTERN, 'x-message': NAME_MESSAGE },
  additionalProperties: { type: ['string', 'number', 'boolean'], 'x-message': 'must be a string (a header value template)' },
});

const ops = (side: string): Obj => ({
  type: 'object',
  description: `Edits of the ${side} headers, applied in the order remove → rename → set → add.`,
  additionalProperties: false,
  minProperties: 1,
  'x-message': { minProperties: 'must hold at least one of set, add, remove, rename' },
  properties: {
    set: valueMap('replaces every value of the header; a value that renders empty removes it'),
    add: valueMap('appends a value, keeping the existing ones; a value that renders empty adds nothing'),
    remove: { type: 'array', description: 'Header names to remove.', items: headerName },
    rename: {
      type: 'object',
      description: 'Old name → new name; like mv: when the old header is present, the new one gets exactly its values.',
      propertyNames: { pattern: TOKEN_PATTERN, 'x-message': NAME_MESSAGE },
      additionalProperties: headerName,
    },
  },
});

/** JSON Schema of `{ headers: <this> }`. */
export const headersSchema: Readonly<Obj> = {
  type: 'object',
  description: 'Edits request headers (before they go upstream) and response headers (before they go to the client).',
  additionalProperties: false,
  minProperties: 1,
  'x-message': { minProperties: 'must hold a request or a response block' },
  properties: { request: ops('upstream request'), response: ops('response') },
};

const FRAMING = 'is a framing or hop-by-hop header the gateway manages itself';

/** Request headers a policy may not touch, with why (also used by jwt's claimsToHeaders). */
export const REQUEST_OWNED: Readonly<Record<string, string>> = {
  host: 'is set by the gateway (the target\'s host, or the client\'s with the route\'s preserveHost: true); use preserveHost or the upstream target URL instead',
  'x-request-id': 'is set by the gateway on every upstream request (the client\'s if it sent one, else a generated id)',
  'x-forwarded-for': 'is set by the gateway on every upstream request (see server.trustedProxies)',
  'x-forwarded-proto': 'is set by the gateway on every upstream request (see server.trustedProxies)',
  'x-forwarded-host': 'is set by the gateway on every upstream request (see server.trustedProxies)',
  'proxy-authorization': 'is meant for the gateway and never forwarded upstream',
  'content-length': FRAMING, 'transfer-encoding': FRAMING, connection: FRAMING, 'keep-alive': FRAMING,
  'proxy-connection': FRAMING, te: FRAMING, trailer: FRAMING, upgrade: FRAMING, expect: FRAMING,
};

/** Response headers a policy may not touch, with why. */
const RESPONSE_OWNED: Readonly<Record<string, string>> = {
  date: 'is written by the server itself on every response',
  'x-request-id': 'is written by the gateway on every response (the upstream\'s own, else the request\'s id)',
  'content-length': FRAMING, 'transfer-encoding': FRAMING, connection: FRAMING, 'keep-alive': FRAMING,
  'proxy-connection': FRAMING, te: FRAMING, trailer: FRAMING, upgrade: FRAMING,
};

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Semantic checks of a headers config at `at` (its schema may have failed:
 * every access is defensive).
 */
export function checkHeaders(config: unknown, at: ConfigPath, issue: IssueSink, gateway: Readonly<Obj>): void {
  if (!isObj(config)) return;
  const routeParams = inlineRouteParams(at, gateway);
  for (const side of ['request', 'response'] as const) {
    const block = config[side];
    if (isObj(block)) checkBlock(block, [...at, side], side === 'request', routeParams, issue);
  }
}

/** One block: owned names, duplicate names, contradicting edits, templates. */
function checkBlock(block: Obj, at: ConfigPath, requestSide: boolean, routeParams: string[] | null, issue: IssueSink): void {
  const owned = requestSide ? REQUEST_OWNED : RESPONSE_OWNED;
  const side = requestSide ? 'request' : 'response';
  const own = (name: string, path: ConfigPath): void => {
    const lower = name.toLowerCase();
    if (Object.hasOwn(owned, lower)) issue(path, `${lower} ${owned[lower]}; it cannot be edited on the ${side} side`);
  };
  const removed = new Set<string>();
  if (Array.isArray(block.remove)) {
    block.remove.forEach((n: unknown, i: number) => {
      if (typeof n !== 'string') return;
      own(n, [...at, 'remove', i]);
      if (removed.has(n.toLowerCase())) issue([...at, 'remove', i], `duplicate header name "${n.toLowerCase()}" (names are case-insensitive)`);
      removed.add(n.toLowerCase());
    });
  }
  if (isObj(block.rename)) checkRenames(block.rename, [...at, 'rename'], removed, own, issue);
  for (const op of ['set', 'add'] as const) {
    const map = block[op];
    if (!isObj(map)) continue;
    const seen = new Set<string>();
    for (const [name, value] of Object.entries(map)) {
      const path = [...at, op, name];
      own(name, path);
      if (seen.has(name.toLowerCase())) issue(path, `duplicate header name "${name.toLowerCase()}" (names are case-insensitive)`);
      seen.add(name.toLowerCase());
      if (typeof value === 'string') checkTemplate(value, path, routeParams, issue);
    }
  }
}

/** Renames: owned names, no chains (a → b, b → c), no two to one name, nothing already removed. */
function checkRenames(rename: Obj, at: ConfigPath, removed: Set<string>, own: (n: string, p: ConfigPath) => void, issue: IssueSink): void {
  const from = new Set(Object.keys(rename).map((k) => k.toLowerCase()));
  const targets = new Set<string>();
  const seen = new Set<string>();
  for (const [old, to] of Object.entries(rename)) {
    const path = [...at, old];
    const o = old.toLowerCase();
    own(old, path);
    if (seen.has(o)) issue(path, `duplicate header name "${o}" (names are case-insensitive)`);
    seen.add(o);
    if (removed.has(o)) issue(path, `"${o}" is removed before renames apply (remove → rename → set → add), so this rename never happens`);
    if (typeof to !== 'string') continue;
    const t = to.toLowerCase();
    own(to, path);
    if (t === o) issue(path, `renames "${o}" to itself`);
    else if (from.has(t)) issue(path, `"${t}" is itself renamed; chained renames are not allowed (rename "${o}" to the final name)`);
    if (targets.has(t)) issue(path, `two renames to "${t}"; each header can be the target of one rename`);
    targets.add(t);
  }
}

/** A value compiles; the path params it reads exist on its route (inline policies). */
function checkTemplate(value: string, path: ConfigPath, routeParams: string[] | null, issue: IssueSink): void {
  try {
    const t = compileTemplate(value);
    if (routeParams === null) return;
    for (const p of templateParams(t)) {
      if (!routeParams.includes(p)) issue(path, `"\${param.${p}}": the route's path has no ${p === '*' ? 'wildcard *' : `param :${p}`}`);
    }
  } catch (err) {
    if (err instanceof TemplateError) issue(path, err.message);
    else throw err;
  }
}

/**
 * The path params of the route an inline policy sits on
 * (`routes[i].policies[j].headers`), or null for a named policy (shared by
 * routes: a param a route lacks renders empty there) or an unreadable path.
 */
export function inlineRouteParams(at: ConfigPath, gateway: Readonly<Obj>): string[] | null {
  if (at[0] !== 'routes' || typeof at[1] !== 'number' || !Array.isArray(gateway.routes)) return null;
  const route: unknown = gateway.routes[at[1]];
  if (!isObj(route) || !isObj(route.match) || typeof route.match.path !== 'string') return null;
  const out: string[] = [];
  for (const seg of route.match.path.split('/')) {
    if (seg.startsWith(':')) out.push(seg.slice(1));
    else if (seg === '*') out.push('*');
  }
  return out;
}
