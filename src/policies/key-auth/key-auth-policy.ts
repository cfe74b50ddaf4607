/**
 * One configured key-auth on the request path: finds the request's API key
 * (header and/or query parameter, via the shared credential sources), looks
 * its digest up in the consumer directory and sets `ctx.consumer`.
 */
import { ErrorCodes } from '../../errors/codes.js';
import type { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../ingress/request-context.js';
import type { Consumer } from '../consumer.js';
import { challenge, duplicateCredentials } from '../credentials/challenge.js';
import { DUPLICATE, findCredential, hideCredential, parseSource, type CredentialSource } from '../credentials/credential-source.js';
import { keyDigest } from '../consumers/consumer-keys.js';
import { consumerOf, type ConsumerDirectory } from '../consumers/directory.js';
import type { PolicyInstance, Verdict } from '../types.js';
import { KEY_AUTH_DEFAULTS, keyAuthSources, type KeyAuthConfig } from './schema.js';

/** The authentication scheme named in challenges. */
const SCHEME = 'ApiKey';

/** A key-auth instance: synchronous access phase only. */
export class KeyAuthPolicy implements PolicyInstance {
  readonly name: string;
  private readonly sources: readonly CredentialSource[];
  private readonly hide: boolean;
  private readonly realm: string;
  /** The consumer requests without a key pass as (null: they are refused). */
  private readonly anonymous: Consumer | null;
  private readonly directory: ConsumerDirectory;
  private readonly missingDetail: string;

  /**
   * @param policyName the spec's name (`keys`, `orders#0`).
   * @param config the kind's config (schema- and check-valid; null = all defaults).
   * @param directory the configured consumers.
   */
  constructor(policyName: string, config: KeyAuthConfig | null, directory: ConsumerDirectory) {
    this.name = 'key-auth:' + policyName;
    const { header, query } = keyAuthSources(config);
    const sources: CredentialSource[] = [];
    const where: string[] = [];
    if (header !== null) { sources.push(parsed('header:' + header, this.name)); where.push('the ' + header.toLowerCase() + ' header'); }
    if (query !== null) { sources.push(parsed('query:' + query, this.name)); where.push('the ' + query + ' query parameter'); }
    if (sources.length === 0) throw new Error(`${this.name}: needs a header or a query parameter`);
    this.sources = sources;
    this.missingDetail = 'An API key is required in ' + where.join(' or ');
    this.hide = config?.hideCredentials ?? KEY_AUTH_DEFAULTS.hideCredentials;
    this.realm = config?.realm ?? KEY_AUTH_DEFAULTS.realm;
    this.directory = directory;
    const anonymousId = config?.anonymous ?? null;
    if (anonymousId === null) this.anonymous = null;
    else {
      const record = directory.byId(anonymousId);
      if (record === undefined) throw new Error(`${this.name}: anonymous consumer "${anonymousId}" is not configured`);
      this.anonymous = consumerOf(record, { kind: 'anonymous', id: '' }, null, true);
    }
  }

  /**
   * No key: 401 unauthorized, or the anonymous consumer. Two different keys:
   * 401 duplicate_credentials. An unknown key: 401 invalid_api_key (also
   * with `anonymous`). A known key: its consumer, and the key removed from
   * the upstream request with hideCredentials.
   */
  access(ctx: RequestContext): Verdict {
    // why: with `anonymous`, this policy is one of several ways in (Kong's
    // "either credential"): a consumer an earlier identity policy proved stands.
    if (this.anonymous !== null && ctx.consumer !== null && ctx.consumer.anonymous !== true) return undefined;
    const found = findCredential(ctx, this.sources);
    if (found === DUPLICATE) return duplicateCredentials(ctx, SCHEME, this.realm);
    if (found === null) {
      if (this.anonymous === null) return this.refuse(ctx, false);
      if (ctx.consumer === null) ctx.consumer = this.anonymous;
      return undefined;
    }
    // why: one SHA-256 and one Map lookup; no compare against each key, and
    // the directory holds digests only.
    const consumer = this.directory.byKeyDigest(keyDigest(found.value));
    if (consumer === undefined) return this.refuse(ctx, true);
    ctx.consumer = consumer;
    if (this.hide) for (let i = 0; i < this.sources.length; i++) hideCredential(ctx, this.sources[i]);
    return undefined;
  }

  private refuse(ctx: RequestContext, presented: boolean): GatewayError {
    return presented
      ? challenge(ctx, ErrorCodes.INVALID_API_KEY, SCHEME, this.realm, '', '', 'The API key is not valid')
      : challenge(ctx, ErrorCodes.UNAUTHORIZED, SCHEME, this.realm, '', '', this.missingDetail);
  }
}

function parsed(spec: string, where: string): CredentialSource {
  const s = parseSource(spec);
  if (typeof s === 'string') throw new Error(`${where}: ${s}`);
  return s;
}
