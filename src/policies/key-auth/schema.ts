/**
 * The key-auth kind's config: its JSON Schema fragment, defaults, and the
 * checks the schema cannot express (a source to read the key from; an
 * `anonymous` consumer that exists).
 */
import type { ConfigPath } from '../../config/issues.js';
import type { IssueSink } from '../types.js';

type Obj = Record<string, unknown>;

/** The kind's config as written (schema- and check-valid). */
export interface KeyAuthConfig {
  /** Header the key is read from; null = none (default `x-api-key`). */
  readonly header?: string | null;
  /** Query parameter the key is read from; null = none (the default). */
  readonly query?: string | null;
  /** Remove the key from what goes upstream (default true). */
  readonly hideCredentials?: boolean;
  /** Consumer id requests without a key pass as (default null: they get 401). */
  readonly anonymous?: string | null;
  /** Realm of the `WWW-Authenticate: ApiKey realm="..."` challenge (default `turnpike`). */
  readonly realm?: string;
}

/** Defaults of the optional fields. */
export const KEY_AUTH_DEFAULTS = { header: 'x-api-key', query: null, hideCredentials: true, anonymous: null, realm: 'turnpike' } as const;

/** JSON Schema (2020-12) of `{ key-auth: <this> }`. */
export const keyAuthSchema: Readonly<Obj> = {
  type: ['object', 'null'],
  description: 'Identifies the consumer by an API key (consumers[].keys) read from a header and/or a query parameter. A missing key is 401 unauthorized (unless anonymous names a consumer), an unknown key 401 invalid_api_key, two different keys 401 duplicate_credentials; each with WWW-Authenticate: ApiKey realm="<realm>".',
  additionalProperties: false,
  properties: {
    header: {
      type: ['string', 'null'],
      pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
      'x-message': { pattern: 'must be a header name', type: 'must be a header name or null (no header)' },
      description: 'Header holding the key (case-insensitive; default x-api-key; null = no header).',
    },
    query: {
      type: ['string', 'null'],
      pattern: '^[A-Za-z0-9_.~-]{1,64}$',
      'x-message': { pattern: 'must be a query parameter name of letters, digits, _ . ~ -', type: 'must be a query parameter name or null (no query key)' },
      description: 'Query parameter holding the key (default null: keys in the query are not read; they end up in access logs of every hop).',
    },
    hideCredentials: {
      type: 'boolean',
      description: 'Remove the key (header and query parameter) from the request sent upstream (default true).',
    },
    anonymous: {
      type: ['string', 'null'],
      minLength: 1,
      description: 'Id of a consumer (from consumers) that requests without any key pass as, with x-anonymous-consumer: true upstream. A wrong key is still refused. Default null: a key is required.',
    },
    realm: {
      type: 'string',
      pattern: '^[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]{1,64}$',
      'x-message': 'must be 1-64 printable ASCII characters without " or \\',
      description: 'Realm named in the WWW-Authenticate challenge (default turnpike).',
    },
  },
};

/** The resolved header (null = none) and query (null = none) of a config. */
export function keyAuthSources(config: KeyAuthConfig | null | undefined): { header: string | null; query: string | null } {
  const c = config ?? {};
  return {
    header: c.header === undefined ? KEY_AUTH_DEFAULTS.header : c.header,
    query: c.query === undefined ? KEY_AUTH_DEFAULTS.query : c.query,
  };
}

/** A key source is left; `anonymous` names a configured consumer. */
export function checkKeyAuth(config: unknown, at: ConfigPath, issue: IssueSink, gateway: Readonly<Obj>): void {
  if (config !== null && (typeof config !== 'object' || Array.isArray(config))) return;
  const c = (config ?? {}) as Obj;
  const { header, query } = keyAuthSources(c as KeyAuthConfig);
  if (header === null && query === null) issue(at, 'needs a header or a query parameter to read the key from (header and query are both null)');
  if (typeof c.anonymous === 'string' && c.anonymous !== '') {
    const list = Array.isArray(gateway.consumers) ? gateway.consumers as unknown[] : [];
    const ids = list.map((x) => (typeof x === 'object' && x !== null ? (x as Obj).id : undefined)).filter((x): x is string => typeof x === 'string');
    if (!ids.includes(c.anonymous)) {
      issue([...at, 'anonymous'], `unknown consumer "${c.anonymous}" (${ids.length > 0 ? `defined: ${ids.join(', ')}` : 'no consumers are defined'})`);
    }
  }
}
