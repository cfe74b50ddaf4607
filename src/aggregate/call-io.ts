/**
 * What an aggregate call sends and how its answer is read: the request
 * headers (the forwarded ones, or the gateway's own only, plus the call's),
 * and the reply body decoded when the upstream compressed it anyway.
 */
import { codingOf, decode } from '../lib/body-codec.js';
import { getHeader } from '../lib/header-list.js';
import type { UpstreamReply } from '../upstream/upstream-client.js';

/** Request headers never sent on an aggregate call: it has no body, and its JSON must come back uncompressed. */
export const NOT_SENT: ReadonlySet<string> = new Set(['content-length', 'transfer-encoding', 'content-type', 'content-encoding', 'accept-encoding', 'expect']);

/** The headers the gateway itself sets (sent also with `forwardHeaders: false`). */
const GATEWAY_SET = new Set([
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id', 'x-consumer-id', 'x-consumer-username',
  'x-consumer-groups', 'x-anonymous-consumer', 'x-client-cert-subject', 'x-client-cert-fingerprint', 'forwarded',
]);

/** Forwarding and identity headers only (`forwardHeaders: false`). */
export function identityOnly(all: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < all.length; i += 2) if (GATEWAY_SET.has(all[i])) out.push(all[i], all[i + 1]);
  return out;
}

/** `base` with `extra`'s headers replacing same-named ones. */
export function withHeaders(base: readonly string[], extra: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < base.length; i += 2) {
    let replaced = false;
    for (let k = 0; k < extra.length; k += 2) if (extra[k] === base[i]) { replaced = true; break; }
    if (!replaced) out.push(base[i], base[i + 1]);
  }
  for (let k = 0; k < extra.length; k++) out.push(extra[k]);
  return out;
}

/** Most bytes a call's body decodes to: the bound of a collected call body (UpstreamClient's default). */
const MAX_DECODED = 8 * 1024 * 1024;

/**
 * The reply body, decompressed when the upstream encoded it anyway (gzip,
 * deflate, br; at most 8 MiB decoded); throws on a corrupt or oversized one.
 */
export function decoded(reply: UpstreamReply): Buffer {
  return decode(reply.body, codingOf(getHeader(reply.headers, 'content-encoding')), MAX_DECODED);
}
