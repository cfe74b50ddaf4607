/**
 * The verified client certificate of a request (mutual TLS): read from uWS
 * in the synchronous part of the handler, parsed with node:crypto's
 * X509Certificate once per distinct certificate (a bounded cache keyed by
 * the PEM text), and put on the request context for the `client-cert`
 * policy, logs and headers.
 */
import { X509Certificate } from 'node:crypto';
import type { HttpResponse } from 'uWebSockets.js';

/**
 * What the gateway knows about a verified client certificate. Built once per
 * distinct certificate and shared by every request that presents it, so it
 * is immutable.
 */
export interface ClientCertificate {
  /**
   * The subject as an RFC 4514 string (most specific RDN first, e.g.
   * `CN=partner-1,O=Partners\, Inc.`), US-ASCII only: control and non-ASCII
   * characters appear as RFC 4514 `\XX` escapes of their UTF-8 bytes. Safe
   * as an HTTP field value.
   */
  readonly subject: string;
  /** The subject's common name, unescaped (the most specific one when there are several); '' when none. */
  readonly cn: string;
  /** SAN DNS names, lower-case. */
  readonly dns: readonly string[];
  /** SAN URIs (e.g. SPIFFE IDs), as written in the certificate. */
  readonly uris: readonly string[];
  /** SHA-256 of the certificate (DER), lower-case hex without separators. */
  readonly fingerprint: string;
}

/**
 * The SSL response uWS hands to a handler: this uWebSockets.js build has an
 * undocumented `getX509Certificate()` that returns the peer certificate as
 * PEM ('' when the client sent none). It is declared here rather than in the
 * package's typings, and only ever called on TLS listeners.
 */
export interface TlsHttpResponse extends HttpResponse {
  getX509Certificate(): string;
}

/** Most distinct certificates a worker keeps parsed. */
const CACHE_MAX = 1024;

/**
 * Parsed client certificates by PEM text, bounded. A keep-alive client (or
 * one resuming its TLS session) presents the same certificate on every
 * request, so a request costs one map lookup instead of a parse.
 */
export class ClientCertCache {
  // why: a Map is insertion-ordered, so evicting its first key drops the
  // oldest entry; a hit does not re-insert (that would cost a delete and a
  // set per request), so eviction is first-in first-out rather than LRU.
  private readonly byPem = new Map<string, ClientCertificate | null>();

  constructor(private readonly max = CACHE_MAX) {}

  /** The parsed certificate; null for one node:crypto cannot parse (never expected: OpenSSL verified it). */
  get(pem: string): ClientCertificate | null {
    const known = this.byPem.get(pem);
    if (known !== undefined) return known;
    const parsed = parseClientCertificate(pem);
    if (this.byPem.size >= this.max) this.byPem.delete(this.byPem.keys().next().value!);
    this.byPem.set(pem, parsed);
    return parsed;
  }

  /** Certificates currently cached. */
  get size(): number {
    return this.byPem.size;
  }
}

/** Parses a PEM certificate into a {@link ClientCertificate}; null when it is not one. */
export function parseClientCertificate(pem: string): ClientCertificate | null {
  let x: X509Certificate;
  try {
    x = new X509Certificate(pem);
  } catch {
    return null;
  }
  const dns: string[] = [];
  const uris: string[] = [];
  if (x.subjectAltName !== undefined) parseSubjectAltName(x.subjectAltName, dns, uris);
  return {
    subject: rfc4514(x.subject),
    cn: commonName(x),
    dns,
    uris,
    fingerprint: x.fingerprint256.replaceAll(':', '').toLowerCase(),
  };
}

/** The last (most specific) CN of the subject, unescaped; '' when none. */
function commonName(x: X509Certificate): string {
  // why: toLegacyObject() gives the attribute values unescaped (`subject`
  // holds them RFC 2253-escaped); a repeated attribute is an array in
  // certificate order.
  const cn = (x.toLegacyObject().subject as unknown as Record<string, string | string[] | undefined>).CN;
  if (cn === undefined) return '';
  return typeof cn === 'string' ? cn : cn.length > 0 ? cn[cn.length - 1] : '';
}

/**
 * Collects the DNS and URI entries of node's `subjectAltName` text
 * (`DNS:a.example, URI:spiffe://x/y, IP Address:…`). Node writes an entry
 * whose value holds a comma, quote, backslash or non-printable character as
 * a JSON string (`URI:"spiffe://x/a\u002cb"`), so entries split on `, `
 * outside quotes.
 */
export function parseSubjectAltName(text: string, dns: string[], uris: string[]): void {
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) return;
    const kind = text.slice(i, colon);
    let value: string;
    let end: number;
    if (text.charCodeAt(colon + 1) === 0x22) {
      let j = colon + 2;
      while (j < text.length && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      end = j + 1;
      try {
        value = JSON.parse(text.slice(colon + 1, end)) as string;
      } catch {
        return; // not node's format: keep what was read so far
      }
    } else {
      const comma = text.indexOf(', ', colon + 1);
      end = comma < 0 ? text.length : comma;
      value = text.slice(colon + 1, end);
    }
    if (kind === 'DNS') dns.push(value.toLowerCase());
    else if (kind === 'URI') uris.push(value);
    i = end + 2;
  }
}

/**
 * Node's `X509Certificate.subject` (one RDN per line, certificate order,
 * values RFC 2253-escaped, a multi-valued RDN as `A=1 + B=2`) as an RFC 4514
 * string: most specific RDN first, comma-separated, with every character
 * outside printable US-ASCII written as `\XX` escapes of its UTF-8 bytes.
 */
export function rfc4514(subject: string): string {
  const rdns = subject.split('\n');
  let out = '';
  for (let i = rdns.length - 1; i >= 0; i--) {
    if (rdns[i] === '') continue;
    const rdn = rdns[i].split(' + ').join('+');
    out = out === '' ? rdn : out + ',' + rdn;
  }
  return escapeNonPrintable(out);
}

const HEX = '0123456789ABCDEF';

/** `\XX` (RFC 4514 hex pairs) for every UTF-8 byte of a character outside 0x20-0x7E. */
function escapeNonPrintable(text: string): string {
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) break;
  }
  if (i === text.length) return text;
  let out = text.slice(0, i);
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) { out += text[i]; continue; }
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += '\\' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}
