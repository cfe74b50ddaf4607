/**
 * The authenticated consumer of a request: set on the context by an
 * authentication policy (JWT, API key, OAuth2 introspection), read by
 * `rate-limit` (`key: consumer`), `acl`, `headers` templates, logging and
 * metrics. Absent (`ctx.consumer === null`) until a policy sets one.
 */
export interface Consumer {
  /** Stable identifier (e.g. the JWT `sub`, the API key's consumer id). */
  readonly id: string;
  /** Human-readable name ('' when unknown). */
  readonly username: string;
  /** Groups for ACLs (empty when none). */
  readonly groups: readonly string[];
  /** What proved the identity, e.g. `jwt`, `api-key`, `oauth2`, `mtls`, with its key id when there is one. */
  readonly credential: { readonly kind: string; readonly id: string };
  /** Verified claims, where the credential carries any (JWT, introspection); null otherwise. */
  readonly claims: Readonly<Record<string, unknown>> | null;
  /** Let through without a credential as the configured anonymous consumer (`x-anonymous-consumer: true` upstream). */
  readonly anonymous?: boolean;
}
