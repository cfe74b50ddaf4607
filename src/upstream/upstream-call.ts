import type { Readable } from 'node:stream';
import type { CompiledRoute } from '../router/compiled-route.js';
import type { Target } from './target.js';
import type { UpstreamGroup } from './upstream-group.js';
import type { ProxyExchange } from './proxy-exchange.js';

/**
 * The upstream half of one request: which group and target it went to, the
 * exchange streaming the response, and its whole-request deadline.
 */
export class UpstreamCall {
  readonly route: CompiledRoute;
  readonly group: UpstreamGroup;
  target: Target | null = null;
  exchange: ProxyExchange | null = null;
  /** Path (with query) sent upstream. */
  readonly path: string;
  /** Flat header list sent upstream. */
  readonly headers: string[];
  /** null (no body), a whole Buffer, or a stream (not retryable). */
  body: Buffer | Readable | null = null;
  /** Deadline for the rest of a streamed response (set when streaming starts). */
  timer: NodeJS.Timeout | null = null;
  /** performance.now() at dispatch, for the remaining whole-request time. */
  startMs = 0;
  attempts = 0;
  /** Key for `hash` balancing ('' for other balancers), kept for a retry. */
  hashKey = '';
  /** Targets already tried (for a retry on another one). */
  triedTarget: Target | null = null;

  constructor(route: CompiledRoute, group: UpstreamGroup, path: string, headers: string[]) {
    this.route = route;
    this.group = group;
    this.path = path;
    this.headers = headers;
  }
}
