/**
 * Builds the string a request is counted under from a limit's key parts:
 * `ip`, `route`, `consumer`, `header:<name>`. Parsed once per limit.
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../../ingress/request-context.js';

const enum Part { Ip, Route, Header, Consumer }

/** Longest key kept as is; longer ones (huge header values) are hashed. */
const MAX_KEY_CHARS = 256;

/** A limit's compiled key. */
export class RequestKey {
  private readonly kinds: Part[] = [];
  private readonly headers: string[] = [];

  /**
   * @param parts normalised key parts (`header:` names lower-case).
   * @param consumerHeader the header `consumer` reads (until an auth policy sets a consumer).
   */
  constructor(parts: readonly string[], consumerHeader: string) {
    for (const p of parts) {
      if (p === 'ip') this.push(Part.Ip, '');
      else if (p === 'route') this.push(Part.Route, '');
      else if (p === 'consumer') this.push(Part.Consumer, consumerHeader);
      else this.push(Part.Header, p.slice('header:'.length));
    }
  }

  /**
   * The key of `ctx` on route `routeName`. `consumer` is the authenticated
   * consumer's id once a policy set one, else the consumer header. Header
   * values count by their SHA-256 digest (128 bits kept), never in clear. A missing header counts under the
   * client address instead (`ip:<addr>`), so clients without it are still
   * limited one by one. Parts are joined with a newline, which no header value
   * or route name can contain.
   */
  build(ctx: RequestContext, routeName: string): string {
    let key = '';
    for (let i = 0; i < this.kinds.length; i++) {
      if (i > 0) key += '\n';
      const kind = this.kinds[i];
      if (kind === Part.Ip) key += ctx.clientIp;
      else if (kind === Part.Route) key += routeName;
      else if (kind === Part.Consumer && ctx.consumer !== null) key += 'c:' + ctx.consumer.id;
      else {
        const v = ctx.header(this.headers[i]);
        // why: a header used as a key is often a credential (an API key, a
        // token): only its digest may reach Redis key names and local maps.
        key += v === '' ? 'ip:' + ctx.clientIp : 'h:' + createHash('sha256').update(v).digest('base64url').slice(0, 22);
      }
    }
    return key.length > MAX_KEY_CHARS ? key.slice(0, 64) + '#' + createHash('sha256').update(key).digest('base64url') : key;
  }

  private push(kind: Part, header: string): void {
    this.kinds.push(kind);
    this.headers.push(header);
  }
}
