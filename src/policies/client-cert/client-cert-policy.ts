/**
 * One configured client-cert policy on the request path: requires the
 * verified client certificate the TLS listener put on the context, matches
 * its subject CN and SANs against the configured globs, and makes it the
 * request's consumer.
 */
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../ingress/request-context.js';
import type { ClientCertificate } from '../../tls/client-certificate.js';
import type { Consumer } from '../consumer.js';
import { safeFieldValue } from '../headers/field-value.js';
import type { PolicyInstance, Verdict } from '../types.js';
import { compileGlob, globMatches, type Glob } from './glob.js';
import type { ClientCertConfig } from './schema.js';

// why: one shared error object per outcome; a refusal allocates nothing.
const ERR_REQUIRED = new GatewayError(ErrorCodes.CLIENT_CERT_REQUIRED, 'This route requires a verified TLS client certificate');
const ERR_FORBIDDEN = new GatewayError(ErrorCodes.CLIENT_CERT_FORBIDDEN,
  'The client certificate\'s subject or subject alternative names are not allowed on this route');

/**
 * The consumer a certificate authenticates as:
 * - `id`: the SAN URI the `sans` globs matched; else the certificate's first
 *   SAN URI (a SPIFFE ID, say); else its subject CN; else its fingerprint;
 * - `username`: the subject CN ('' when none);
 * - `credential`: `{ kind: 'mtls', id: <SHA-256 fingerprint, hex> }`.
 * `id` and `username` are made header-safe (safeFieldValue: control
 * characters removed, non-ASCII percent-encoded), since they go upstream as
 * x-consumer-id / x-consumer-username.
 */
export function certificateConsumer(cert: ClientCertificate, matchedUri: string | null): Consumer {
  const id = matchedUri ?? (cert.uris.length > 0 ? cert.uris[0] : cert.cn !== '' ? cert.cn : cert.fingerprint);
  return {
    id: safeFieldValue(id),
    username: safeFieldValue(cert.cn),
    groups: [],
    credential: { kind: 'mtls', id: cert.fingerprint },
    claims: null,
  };
}

/** A client-cert instance: synchronous access phase only. */
export class ClientCertPolicy implements PolicyInstance {
  readonly name: string;
  /** Subject CN globs (the text after `CN=`); null = any subject. */
  private readonly subjects: Glob[] | null;
  /** SAN globs; DNS names are compared with the lower-cased form. */
  private readonly sans: Glob[] | null;
  private readonly sansLower: Glob[] | null;
  /**
   * The verdict per certificate: its consumer, or null when it does not
   * match. Certificates come from the worker's parse cache, so one object
   * stands for one certificate; entries go when the cache drops it.
   */
  private readonly decided = new WeakMap<ClientCertificate, Consumer | null>();

  /**
   * @param policyName the spec's name (`partners`, `orders#0`).
   * @param config the kind's config (schema- and check-valid).
   */
  constructor(policyName: string, config: ClientCertConfig | null) {
    this.name = 'client-cert:' + policyName;
    const subjects = config?.subjects;
    this.subjects = subjects === undefined ? null : subjects.map((s) => {
      if (!s.startsWith('CN=')) throw new Error(`${this.name}: subjects entry "${s}" is not CN=<glob>`);
      return compileGlob(s.slice(3));
    });
    const sans = config?.sans;
    this.sans = sans === undefined ? null : sans.map(compileGlob);
    this.sansLower = sans === undefined ? null : sans.map((s) => compileGlob(s.toLowerCase()));
  }

  /**
   * No verified certificate: 401 client_cert_required. Not matching: 403
   * client_cert_forbidden. Otherwise the certificate becomes the consumer
   * (replacing one an earlier policy set) and its subject and fingerprint
   * go upstream as x-client-cert-subject / x-client-cert-fingerprint.
   */
  access(ctx: RequestContext): Verdict {
    const cert = ctx.clientCert;
    if (cert === null) return ERR_REQUIRED;
    // why: a client presents the same certificate on every request of its
    // connections, so the glob matching and the consumer object are made
    // once per certificate.
    let consumer = this.decided.get(cert);
    if (consumer === undefined) {
      consumer = this.decide(cert);
      this.decided.set(cert, consumer);
    }
    if (consumer === null) return ERR_FORBIDDEN;
    ctx.consumer = consumer;
    ctx.addUpstreamIdentity('x-client-cert-subject', cert.subject);
    ctx.addUpstreamIdentity('x-client-cert-fingerprint', cert.fingerprint);
    return undefined;
  }

  /** The consumer for a certificate that matches `subjects` and `sans` (each when configured), else null. */
  private decide(cert: ClientCertificate): Consumer | null {
    if (this.subjects !== null && !anyMatch(this.subjects, cert.cn)) return null;
    let matchedUri: string | null = null;
    if (this.sans !== null) {
      for (const u of cert.uris) {
        if (anyMatch(this.sans, u)) { matchedUri = u; break; }
      }
      if (matchedUri === null && !cert.dns.some((d) => anyMatch(this.sansLower!, d))) return null;
    }
    return certificateConsumer(cert, matchedUri);
  }
}

function anyMatch(globs: readonly Glob[], text: string): boolean {
  for (const g of globs) if (globMatches(g, text)) return true;
  return false;
}
