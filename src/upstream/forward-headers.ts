import type { GatewayConfig } from '../config/types.js';
import type { RequestContext } from '../ingress/request-context.js';
import type { RequestTrace } from '../observability/tracing/request-trace.js';

/**
 * The scheme clients reach this gateway's listener with (`https` when
 * server.tls is set): the X-Forwarded-Proto value, computed once per worker.
 */
export function listenerScheme(config: Pick<GatewayConfig, 'server'>): 'http' | 'https' {
  return config.server.tls === null ? 'http' : 'https';
}

/**
 * Request headers that describe one hop (RFC 9110 §7.6.1) and so are never
 * forwarded, plus the ones the gateway rewrites itself.
 */
const DROP_REQUEST = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
  'proxy-authorization', 'host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id',
  'content-length', 'expect',
  // Identity headers only the gateway may set: a client-sent one is always
  // removed, authenticated route or not (appendIdentity adds the real ones).
  'x-consumer-id', 'x-consumer-username', 'x-consumer-groups', 'x-anonymous-consumer',
  'x-client-cert-subject', 'x-client-cert-fingerprint',
]);

/**
 * {@link DROP_REQUEST} plus the trace context headers, for traced requests:
 * the gateway sends its own `traceparent` (its span as the parent) and the
 * incoming `tracestate` only with a valid incoming `traceparent`.
 */
const DROP_REQUEST_TRACED = new Set([...DROP_REQUEST, 'traceparent', 'tracestate']);

/**
 * Builds the flat `[name, value, ...]` header list undici sends upstream:
 * hop-by-hop headers and headers named in `Connection` removed,
 * X-Forwarded-For appended (when the peer is a trusted proxy) or replaced,
 * X-Forwarded-Proto/-Host set, X-Request-Id set, Host rewritten unless
 * preserved. Content-Length is forwarded when the body length is known.
 * Whether the peer is a trusted proxy (its X-Forwarded-* kept) comes from
 * `ctx.peerTrusted`.
 *
 * @param upstreamHost Host to send upstream ('' = the target's own host)
 * @param proto scheme the client used to reach the gateway
 * @param bodyLength length of a buffered body to send (it may differ from the
 *   client's framing: a chunked upload buffered whole, or a body a policy
 *   replaced); -1 to forward the client's Content-Length as declared.
 */
export function buildUpstreamHeaders(ctx: RequestContext, upstreamHost: string, proto: string, bodyLength = -1): string[] {
  const names = ctx.headerNames;
  const values = ctx.headerValues;
  const out: string[] = [];
  const connection = ctx.connection;
  // why: a Connection header naming extra headers is rare; only then pay for a set.
  const connectionListed = connection === '' || isPlainConnectionValue(connection)
    ? null : connectionTokens(connection);
  let xff = '';
  let xfProto = '';
  let xfHost = '';
  // why: a second set rather than a test per header: an untraced request pays nothing.
  const drop = ctx.trace === null ? DROP_REQUEST : DROP_REQUEST_TRACED;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    if (drop.has(name)) {
      if (ctx.peerTrusted) {
        if (name === 'x-forwarded-for') xff = xff === '' ? values[i] : xff + ', ' + values[i];
        else if (name === 'x-forwarded-proto' && xfProto === '') xfProto = values[i];
        else if (name === 'x-forwarded-host' && xfHost === '') xfHost = values[i];
      }
      continue;
    }
    if (connectionListed !== null && connectionListed.has(name)) continue;
    out.push(name, values[i]);
  }
  appendForwarding(out, ctx, proto, xff, xfProto, xfHost);
  if (ctx.consumer !== null || ctx.upstreamIdentity !== null) appendIdentity(out, ctx);
  if (ctx.trace !== null) appendTraceContext(out, ctx.trace);
  if (upstreamHost !== '') out.push('host', upstreamHost);
  if (bodyLength >= 0) out.push('content-length', String(bodyLength));
  else if (ctx.contentLength >= 0 && ctx.transferEncoding === '') out.push('content-length', String(ctx.contentLength));
  return out;
}

/**
 * Only the forwarding headers of {@link buildUpstreamHeaders}, by the same
 * rules, as a flat `[name, value, ...]` list: X-Forwarded-For (the client's
 * chain kept and the peer appended when `ctx.peerTrusted`, else just the
 * peer, so an untrusted client cannot spoof it), X-Forwarded-Proto,
 * X-Forwarded-Host (when the request had a Host) and X-Request-Id. For
 * upstreams that get these plus an allowlist rather than every header
 * (gRPC metadata).
 *
 * @param proto scheme the client used to reach the gateway
 */
export function buildForwardingHeaders(ctx: RequestContext, proto: string): string[] {
  let xff = '';
  let xfProto = '';
  let xfHost = '';
  if (ctx.peerTrusted) {
    const names = ctx.headerNames;
    const values = ctx.headerValues;
    for (let i = 0; i < names.length; i++) {
      const name = names[i];
      if (name === 'x-forwarded-for') xff = xff === '' ? values[i] : xff + ', ' + values[i];
      else if (name === 'x-forwarded-proto' && xfProto === '') xfProto = values[i];
      else if (name === 'x-forwarded-host' && xfHost === '') xfHost = values[i];
    }
  }
  const out: string[] = [];
  appendForwarding(out, ctx, proto, xff, xfProto, xfHost);
  if (ctx.consumer !== null || ctx.upstreamIdentity !== null) appendIdentity(out, ctx);
  if (ctx.trace !== null) appendTraceContext(out, ctx.trace);
  return out;
}

/**
 * W3C trace context for the upstream: `traceparent` naming the gateway's
 * span as the parent (same trace id, the sampled flag as decided), and the
 * incoming `tracestate` unchanged (the gateway adds no entry of its own).
 */
export function appendTraceContext(out: string[], trace: RequestTrace): void {
  out.push('traceparent', trace.traceparent);
  if (trace.traceState !== '') out.push('tracestate', trace.traceState);
}

/**
 * The identity the gateway established, for the upstream: `x-consumer-id`,
 * `x-consumer-username`, `x-consumer-groups` (comma-separated),
 * `x-anonymous-consumer: true`, then the identity headers policies added
 * (e.g. `x-client-cert-subject`). Values come from verified credentials or
 * config and are checked for header safety where they are set.
 */
export function appendIdentity(out: string[], ctx: RequestContext): void {
  const c = ctx.consumer;
  if (c !== null) {
    out.push('x-consumer-id', c.id);
    if (c.username !== '') out.push('x-consumer-username', c.username);
    if (c.groups.length > 0) out.push('x-consumer-groups', c.groups.join(','));
    if (c.anonymous === true) out.push('x-anonymous-consumer', 'true');
  }
  const extra = ctx.upstreamIdentity;
  if (extra !== null) for (let i = 0; i < extra.length; i++) out.push(extra[i]);
}

/** Appends X-Forwarded-For/-Proto/-Host and X-Request-Id given the trusted peer's values ('' = none). */
function appendForwarding(out: string[], ctx: RequestContext, proto: string, xff: string, xfProto: string, xfHost: string): void {
  out.push('x-forwarded-for', xff === '' ? ctx.peerIp : xff + ', ' + ctx.peerIp);
  out.push('x-forwarded-proto', xfProto === '' ? proto : xfProto);
  if (ctx.rawHost !== '') out.push('x-forwarded-host', xfHost === '' ? ctx.rawHost : xfHost);
  out.push('x-request-id', ctx.requestId);
}

function isPlainConnectionValue(v: string): boolean {
  const l = v.length;
  return (l === 10 && v.toLowerCase() === 'keep-alive') || (l === 5 && v.toLowerCase() === 'close');
}

function connectionTokens(v: string): Set<string> {
  const set = new Set<string>();
  for (const part of v.split(',')) {
    const t = part.trim().toLowerCase();
    if (t !== '') set.add(t);
  }
  return set;
}

/**
 * Whether an upstream response header (raw bytes from undici) must not be
 * copied to the client: hop-by-hop ones, and the framing, date and
 * `uWebSockets` headers that uWS writes itself (an upstream built on uWS
 * sends its own `uWebSockets: 20`; the client would get it twice).
 */
export function isDroppedResponseHeader(name: Buffer): boolean {
  // why: compare by length first so most headers cost one integer check,
  // without converting every name to a string.
  switch (name.length) {
    case 2: return eqLower(name, 'te');
    case 4: return eqLower(name, 'date');
    case 7: return eqLower(name, 'trailer') || eqLower(name, 'upgrade');
    case 10: return eqLower(name, 'connection') || eqLower(name, 'keep-alive');
    case 11: return eqLower(name, 'uwebsockets');
    case 14: return eqLower(name, 'content-length');
    case 16: return eqLower(name, 'proxy-connection');
    case 17: return eqLower(name, 'transfer-encoding');
    default: return false;
  }
}

/** Case-insensitive compare of raw header bytes with a lower-case ASCII name. */
export function eqLower(buf: Buffer, lower: string): boolean {
  if (buf.length !== lower.length) return false;
  for (let i = 0; i < buf.length; i++) {
    let c = buf[i];
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}
