/**
 * The client's WebSocket opening handshake (RFC 6455 §4.2.1) as the gateway
 * reads it, and the request it sends upstream in its place: what is a
 * handshake, the subprotocols offered, and the headers forwarded.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import type { RequestContext } from '../ingress/request-context.js';
import { buildUpstreamHeaders } from '../upstream/forward-headers.js';

/** The only protocol version (RFC 6455). */
export const WEBSOCKET_VERSION = '13';

/** RFC 9110 token characters (a subprotocol name is a token). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Whether the request asks for a WebSocket: its `Upgrade` header lists the
 * `websocket` protocol (any case). uWS hands the upgrade handler only GET
 * requests with a 24-character Sec-WebSocket-Key; without `Upgrade:
 * websocket` such a request is served as a plain one.
 */
export function isWebSocketHandshake(ctx: RequestContext): boolean {
  const up = ctx.header('upgrade');
  if (up.length === 9) return up.toLowerCase() === 'websocket';
  if (up.length < 9) return false;
  for (const part of up.split(',')) if (part.trim().toLowerCase() === 'websocket') return true;
  return false;
}

/**
 * The subprotocols the client offers (every `Sec-WebSocket-Protocol` line,
 * comma-separated, in order, duplicates dropped); null when one is not a
 * token (the handshake is refused with 400).
 */
export function offeredSubprotocols(ctx: RequestContext): string[] | null {
  const out: string[] = [];
  const names = ctx.headerNames;
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== 'sec-websocket-protocol') continue;
    for (const raw of ctx.headerValues[i].split(',')) {
      const p = raw.trim();
      if (p === '') continue;
      if (!TOKEN.test(p)) return null;
      if (!out.includes(p)) out.push(p);
    }
  }
  return out;
}

/**
 * The headers of the upstream handshake: what the proxy forwards for any
 * request (hop-by-hop headers dropped, X-Forwarded-*, X-Request-Id, the
 * identity policies established, client-sent identity headers stripped,
 * Host unless `upstreamHost`), without the client's own `Sec-WebSocket-*`
 * fields: the gateway's WebSocket client makes its own key and version,
 * offers the subprotocols itself and no extension (permessage-deflate is not
 * negotiated on either side). Values are grouped per name (a repeated header
 * becomes an array), as node:http wants them.
 *
 * @param upstreamHost the Host to send ('' = the target's own)
 * @param proto the scheme clients reach the gateway with
 */
export function upstreamHandshakeHeaders(ctx: RequestContext, upstreamHost: string, proto: string): OutgoingHttpHeaders {
  const flat = buildUpstreamHeaders(ctx, upstreamHost, proto);
  // why: a null prototype, so a header named like an Object.prototype member
  // (`__proto__`, `constructor`) is a plain own field.
  const out = Object.create(null) as Record<string, string | string[]>;
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i];
    if (name.startsWith('sec-websocket-')) continue;
    const prev = out[name];
    if (prev === undefined) out[name] = flat[i + 1];
    else if (typeof prev === 'string') out[name] = [prev, flat[i + 1]];
    else prev.push(flat[i + 1]);
  }
  return out;
}

/**
 * The upstream URL of a target: its origin with `http` → `ws`, `https` →
 * `wss`, plus the forwarded path and query.
 */
export function upstreamWebSocketUrl(origin: string, pathAndQuery: string): string {
  const base = origin.startsWith('https:') ? 'wss:' + origin.slice(6) : origin.startsWith('http:') ? 'ws:' + origin.slice(5) : origin;
  return base + pathAndQuery;
}
