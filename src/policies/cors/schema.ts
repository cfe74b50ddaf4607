/**
 * The cors kind's config: its JSON Schema fragment (composed into
 * `$defs.policy.properties.cors` of the gateway schema) and the checks the
 * schema cannot express (origins parse, `*` never with credentials, maxAge in
 * whole seconds).
 */
import type { ConfigPath } from '../../config/issues.js';
import { tryParseDuration } from '../../config/units.js';
import type { IssueSink } from '../types.js';
import { parseOriginEntry } from './origin.js';

/** `{ cors: <this> }` as written in the config file (schema- and check-valid). */
export interface CorsConfig {
  /** Allowed origins: exact, `*`, `null`, or `scheme://*.domain[:port]`; a single string is one entry. */
  readonly origins: string | readonly string[];
  /** Methods a preflight may ask for (default GET, HEAD, POST). */
  readonly methods?: readonly string[];
  /** Request headers a preflight may ask for; absent: whatever the preflight asks for is allowed (echoed). */
  readonly headers?: readonly string[];
  /** Response headers scripts may read (Access-Control-Expose-Headers). */
  readonly exposeHeaders?: readonly string[];
  /** Whether credentialed requests (cookies, Authorization) are allowed (default false). */
  readonly credentials?: boolean;
  /** How long browsers may cache a preflight answer (whole seconds). */
  readonly maxAge?: string | number;
}

/** RFC 9110 token: what a method or header name may be. */
const TOKEN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

function tokenList(what: string, description: string): Record<string, unknown> {
  return {
    type: 'array',
    description,
    items: { type: 'string', pattern: TOKEN, 'x-message': `must be ${what}` },
  };
}

/** JSON Schema (2020-12) of `{ cors: <this> }`. */
export const corsSchema: Readonly<Record<string, unknown>> = {
  type: 'object',
  description: 'Cross-origin resource sharing: answers preflights and adds Access-Control-* headers for allowed origins.',
  additionalProperties: false,
  required: ['origins'],
  properties: {
    origins: {
      type: ['string', 'array'],
      description: 'Allowed origins: "https://app.example.com", "https://*.example.com" (subdomains only), "*" (any, not with credentials) or "null".',
      minLength: 1,
      minItems: 1,
      items: { type: 'string', minLength: 1, 'x-message': { type: 'must be a string (quote "null" to allow the null origin)' } },
    },
    methods: tokenList('a method name like GET or PUT', 'Methods a preflight may ask for; default GET, HEAD, POST.'),
    headers: tokenList('a header name like content-type', 'Request headers a preflight may ask for; omitted: any requested header is allowed (echoed).'),
    exposeHeaders: tokenList('a header name like x-request-id', 'Response headers the browser lets scripts read.'),
    credentials: { type: 'boolean', description: 'Allow cookies and Authorization on cross-origin requests (default false).' },
    maxAge: { $ref: '#/$defs/duration', description: 'How long a browser may cache a preflight answer, in whole seconds (10m, 600s).' },
  },
};

/** The origins as a list (a single string is one entry). */
export function originList(origins: CorsConfig['origins']): readonly string[] {
  return typeof origins === 'string' ? [origins] : origins;
}

/**
 * Checks what the schema cannot: every origin parses; `*` is alone and never
 * with `credentials: true` (browsers refuse a wildcard on credentialed
 * requests, for origins, methods, headers and exposed headers alike); no
 * duplicate origins; maxAge is whole seconds.
 */
export function checkCors(config: unknown, at: ConfigPath, issue: IssueSink): void {
  if (typeof config !== 'object' || config === null) return;
  const c = config as Partial<CorsConfig>;
  const credentials = c.credentials === true;
  if (typeof c.origins === 'string' || Array.isArray(c.origins)) checkOrigins(c.origins, at, credentials, issue);
  if (credentials) {
    for (const field of ['methods', 'headers', 'exposeHeaders'] as const) {
      const list = c[field];
      if (!Array.isArray(list)) continue;
      const i = list.indexOf('*');
      if (i >= 0) issue([...at, field, i], '"*" is not a wildcard for credentialed requests (credentials: true); list the names');
    }
  }
  if (c.maxAge !== undefined) {
    const ms = tryParseDuration(c.maxAge);
    if (ms !== null && ms % 1000 !== 0) issue([...at, 'maxAge'], 'must be whole seconds, e.g. 600s or 10m (a bare number is milliseconds)');
  }
}

function checkOrigins(origins: string | readonly unknown[], at: ConfigPath, credentials: boolean, issue: IssueSink): void {
  const single = typeof origins === 'string';
  const list: readonly unknown[] = single ? [origins] : origins;
  const seen = new Map<string, number>();
  let star = -1;
  let others = 0;
  list.forEach((o, i) => {
    if (typeof o !== 'string' || o === '') return;
    const path = single ? [...at, 'origins'] : [...at, 'origins', i];
    const e = parseOriginEntry(o);
    if (e.kind === 'invalid') { issue(path, e.message); return; }
    if (e.kind === 'any') {
      star = i;
      if (credentials) issue(path, '"*" cannot be used with credentials: true (browsers refuse it); list the allowed origins');
      return;
    }
    const key = e.kind === 'exact' ? e.origin : e.prefix + '*' + e.suffix;
    if (key !== 'null') others++;
    const first = seen.get(key);
    if (first !== undefined) issue(path, `duplicate origin (same as origins[${first}])`);
    else seen.set(key, i);
  });
  if (star >= 0 && others > 0) issue([...at, 'origins', star], '"*" already allows every origin but null; list it alone (or with "null")');
}
