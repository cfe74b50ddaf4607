/**
 * `server.redirectHttp`: a plain uWS listener that answers every request
 * with a 308 to the same host and path on the TLS listener. The Host header
 * is validated (a host name, IPv4 address or bracketed IPv6 address, with an
 * optional port) so a crafted Host (`evil.example/`, `a@b`, `x\y`) cannot
 * turn it into an open redirect.
 */
import { isIP } from 'node:net';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import { RequestIdGenerator } from '../ingress/request-id.js';
import type { UwsModule } from '../platform/uws-loader.js';
import { writeProblem } from '../response/problem.js';

const ERR_HOST = new GatewayError(ErrorCodes.BAD_REQUEST, 'Missing or invalid Host header: cannot redirect to https');
const ERR_TARGET = new GatewayError(ErrorCodes.BAD_REQUEST, 'The request target must be a path: cannot redirect to https');

/** One DNS label (letters, digits, `-`, `_`), not starting or ending with `-`. */
const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;

/**
 * The host part of a Host header, lower-case and without its port, as it
 * goes into the redirect's authority; null when the header is not a valid
 * `host[:port]` (empty, a userinfo, a path, a bad port, …).
 */
export function redirectHost(header: string): string | null {
  if (header === '' || header.length > 262) return null;
  let host: string;
  let port = '';
  if (header.charCodeAt(0) === 0x5b /* [ */) {
    const close = header.indexOf(']');
    if (close < 0) return null;
    if (isIP(header.slice(1, close)) !== 6) return null;
    host = header.slice(0, close + 1).toLowerCase();
    const rest = header.slice(close + 1);
    if (rest !== '') {
      if (rest.charCodeAt(0) !== 0x3a /* : */) return null;
      port = rest.slice(1);
    }
  } else {
    const colon = header.indexOf(':');
    host = (colon < 0 ? header : header.slice(0, colon)).toLowerCase();
    if (colon >= 0) port = header.slice(colon + 1);
    if (host.endsWith('.')) host = host.slice(0, -1);
    if (host === '' || host.length > 253) return null;
    if (isIP(host) !== 4 && !host.split('.').every((l) => LABEL.test(l))) return null;
  }
  if (port !== '' && !/^\d{1,5}$/.test(port)) return null;
  return host;
}

const HEX = '0123456789ABCDEF';

/**
 * Percent-encodes every character outside printable US-ASCII (its UTF-8
 * bytes; a lone surrogate as U+FFFD), so the Location is ASCII; existing
 * percent-escapes are kept as they are.
 */
export function asciiTarget(text: string): string {
  let i = 0;
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) break;
  }
  if (i === text.length) return text;
  let out = text.slice(0, i);
  for (; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x20 && c < 0x7f) { out += text[i]; continue; }
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += '%' + HEX[b >> 4] + HEX[b & 15];
  }
  return out;
}

/**
 * Creates the redirect app: every request gets `308 Permanent Redirect` to
 * `https://<host>[:<httpsPort> unless 443]<path>[?<query>]`, or a
 * problem+json 400 for a missing/invalid Host or a target that is not a path.
 */
export function createRedirectApp(uws: UwsModule, httpsPort: number): TemplatedApp {
  const suffix = httpsPort === 443 ? '' : ':' + httpsPort;
  const ids = new RequestIdGenerator();
  const app = uws.App();
  app.any('/*', function redirect(res: HttpResponse, req: HttpRequest): void {
    const path = req.getUrl();
    const query = req.getQuery() ?? '';
    const head = req.getMethod() === 'head';
    const host = redirectHost(req.getHeader('host'));
    if (host === null || path.charCodeAt(0) !== 0x2f /* / */) {
      writeProblem(res, host === null ? ERR_HOST : ERR_TARGET, path, ids.next(), null, false, head);
      return;
    }
    const location = 'https://' + host + suffix + asciiTarget(path) + (query === '' ? '' : '?' + asciiTarget(query));
    res.writeStatus('308 Permanent Redirect');
    res.writeHeader('location', location);
    res.end();
  });
  return app;
}
