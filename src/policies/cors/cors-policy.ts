/**
 * One configured cors policy. Every header value is joined once here; per
 * request the access phase only recognises a preflight (method plus two
 * header lookups) and the responseHead phase matches the origin and edits
 * the header list in one pass.
 */
import { parseDuration } from '../../config/units.js';
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../ingress/request-context.js';
import { LocalResponse } from '../local-response.js';
import type { PolicyInstance, ResponseHead, Verdict } from '../types.js';
import { addVaryOrigin, allHeadersAllowed, isTokenList, stripCorsHeaders } from './cors-headers.js';
import { OriginMatcher, parseOriginEntry } from './origin.js';
import { originList, type CorsConfig } from './schema.js';

/** Methods a preflight may ask for when `methods` is not configured: the CORS-safelisted ones (Fetch). */
export const DEFAULT_METHODS: readonly string[] = ['GET', 'HEAD', 'POST'];

const ACAO = 'access-control-allow-origin';

/** The cors policy instance (see README, Policies: cors). */
export class CorsPolicy implements PolicyInstance {
  readonly name: string;
  private readonly origins: OriginMatcher;
  /** `*` for `origins: "*"`; otherwise '' (the request's origin is echoed). */
  private readonly fixedOrigin: string;
  private readonly credentials: boolean;
  private readonly exposeHeaders: string;
  private readonly anyMethod: boolean;
  private readonly methods: ReadonlySet<string>;
  /** `headers` omitted: the preflight's Access-Control-Request-Headers is echoed (after a token check). */
  private readonly echoHeaders: boolean;
  private readonly anyHeader: boolean;
  private readonly allowedHeaders: ReadonlySet<string>;
  /** Preflight answer headers after Access-Control-Allow-Origin (all but an echoed Allow-Headers). */
  private readonly preflightTail: readonly string[];
  private readonly methodDetail: string;
  private readonly headersDetail: string;

  /**
   * @param name instance name, `cors:<policy name>`.
   * @param config the kind's config, schema- and check-valid.
   */
  constructor(name: string, config: CorsConfig) {
    this.name = name;
    this.origins = new OriginMatcher(originList(config.origins).map(parseOriginEntry));
    this.fixedOrigin = this.origins.any ? '*' : '';
    this.credentials = config.credentials === true;
    this.exposeHeaders = unique(config.exposeHeaders ?? [], false).join(', ');
    const methods = unique(config.methods ?? DEFAULT_METHODS, true);
    this.anyMethod = methods.includes('*');
    this.methods = new Set(methods);
    this.echoHeaders = config.headers === undefined;
    const headers = unique(config.headers ?? [], false);
    this.anyHeader = headers.includes('*');
    this.allowedHeaders = new Set(headers.map((h) => h.toLowerCase()));
    const tail: string[] = [];
    if (this.credentials) tail.push('access-control-allow-credentials', 'true');
    tail.push('access-control-allow-methods', methods.join(', '));
    if (!this.echoHeaders && headers.length > 0) tail.push('access-control-allow-headers', headers.join(', '));
    if (config.maxAge !== undefined) tail.push('access-control-max-age', String(Math.floor(parseDuration(config.maxAge) / 1000)));
    tail.push('vary', 'Origin');
    this.preflightTail = tail;
    this.methodDetail = 'The preflight asks for a method this CORS policy does not allow (allowed: ' + methods.join(', ') + ')';
    this.headersDetail = this.echoHeaders
      ? 'The preflight\'s Access-Control-Request-Headers is not a list of header names'
      : 'The preflight asks for a request header this CORS policy does not allow (allowed: ' + (headers.length > 0 ? headers.join(', ') : 'none') + ')';
  }

  /**
   * Answers a CORS preflight (OPTIONS with Origin and
   * Access-Control-Request-Method) locally: 204 with the allow headers, or a
   * 403 `cors_forbidden` problem without CORS headers when the origin, method
   * or a requested header is not allowed. Anything else continues.
   */
  access(ctx: RequestContext): Verdict {
    if (ctx.method !== 'OPTIONS') return undefined;
    const method = ctx.header('access-control-request-method');
    if (method === '') return undefined;
    const origin = ctx.header('origin');
    if (origin === '') return undefined;
    if (!this.origins.allows(origin)) return new GatewayError(ErrorCodes.CORS_FORBIDDEN, 'The origin is not allowed by this CORS policy');
    if (!this.anyMethod && !this.methods.has(method)) return new GatewayError(ErrorCodes.CORS_FORBIDDEN, this.methodDetail);
    const requested = ctx.header('access-control-request-headers');
    let echo = '';
    if (requested !== '') {
      if (this.echoHeaders) {
        if (!isTokenList(requested)) return new GatewayError(ErrorCodes.CORS_FORBIDDEN, this.headersDetail);
        echo = requested;
      } else if (!this.anyHeader && !allHeadersAllowed(requested, this.allowedHeaders)) {
        return new GatewayError(ErrorCodes.CORS_FORBIDDEN, this.headersDetail);
      }
    }
    const tail = this.preflightTail;
    // why: one array of the final size, filled by index: no spread or
    // concat copies; only Access-Control-Allow-Origin (and an echoed
    // Allow-Headers) differ per preflight, the rest is the precomputed tail.
    const headers = new Array<string>(2 + tail.length + (echo === '' ? 0 : 2));
    headers[0] = ACAO;
    headers[1] = this.fixedOrigin === '' ? origin : this.fixedOrigin;
    for (let i = 0; i < tail.length; i++) headers[2 + i] = tail[i];
    if (echo !== '') { headers[2 + tail.length] = 'access-control-allow-headers'; headers[3 + tail.length] = echo; }
    return new LocalResponse(204, headers);
  }

  /**
   * On every response of an actual request (upstream, problem, local):
   * removes CORS headers the upstream set, adds Vary: Origin, and for an
   * allowed origin Access-Control-Allow-Origin, -Allow-Credentials and
   * -Expose-Headers. Preflights are left alone (the access phase answered them).
   */
  responseHead(ctx: RequestContext, head: ResponseHead): Verdict {
    const origin = ctx.header('origin');
    if (origin !== '' && ctx.method === 'OPTIONS' && ctx.header('access-control-request-method') !== '') return undefined;
    const list = head.headers;
    const vary = stripCorsHeaders(list);
    addVaryOrigin(list, vary);
    if (origin === '' || !this.origins.allows(origin)) return undefined;
    list.push(ACAO, this.fixedOrigin === '' ? origin : this.fixedOrigin);
    if (this.credentials) list.push('access-control-allow-credentials', 'true');
    if (this.exposeHeaders !== '') list.push('access-control-expose-headers', this.exposeHeaders);
    return undefined;
  }
}

/** Config list without duplicates (methods upper-cased, header names compared case-insensitively). */
function unique(list: readonly string[], upper: boolean): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const raw of list) {
    const v = upper ? raw.toUpperCase() : raw;
    const key = v.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(v);
  }
  return out;
}
