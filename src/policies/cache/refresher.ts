/**
 * stale-while-revalidate: the request that found a stale entry within its
 * window was answered from it at once; this repeats its upstream request in
 * the background (env.upstream, the same upstream pick, rewritten path and
 * forwarded headers the proxy would have sent), conditional when the entry
 * has a validator. At most one refresh per stored entry at a time per worker.
 * Outcomes: a 304 refreshes the entry, a storable response replaces it, a
 * response that may no longer be stored removes it, and an upstream failure
 * (error or 5xx) leaves the stale entry as it is.
 */
import type { RequestContext } from '../../ingress/request-context.js';
import type { Logger } from '../../observability/logger.js';
import type { UpstreamClient, UpstreamReply } from '../../upstream/upstream-client.js';
import type { CacheCore } from './cache-core.js';
import type { CacheEntry } from './cache-entry.js';
import { snapshotLookup, varyKey } from './cache-key.js';
import { mergeNotModified, planStore } from './freshness.js';

/** Outcome indexes of CacheCounters.refreshes (REFRESH_OUTCOMES). */
const UPDATED = 0;
const REVALIDATED = 1;
const REMOVED = 2;
const FAILED = 3;

/** Request headers a refresh does not repeat: the client's own conditionals and ranges. */
const NOT_REPEATED = new Set(['if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range']);

/** The background revalidations of one cache policy in one worker. */
export class Refresher {
  private readonly running = new Set<string>();

  constructor(private readonly core: CacheCore, private readonly upstream: UpstreamClient, private readonly logger: Logger) {}

  /** Refreshes in flight (tests, status). */
  get inFlight(): number {
    return this.running.size;
  }

  /** Starts a background refresh of `entry` for the request `ctx` (unless one for it is running). */
  refresh(ctx: RequestContext, key: string, entry: CacheEntry, authorized: boolean): void {
    const storeKey = entry.storeKey !== '' ? entry.storeKey : key + '\n' + entry.varyEpoch + entry.varyValues;
    if (this.running.has(storeKey)) return;
    const fwd = this.upstream.forwardRequest(ctx);
    if (fwd === null) return;
    const headers: string[] = [];
    for (let i = 0; i < fwd.headers.length; i += 2) if (!NOT_REPEATED.has(fwd.headers[i])) headers.push(fwd.headers[i], fwd.headers[i + 1]);
    if (entry.times.etag !== '') headers.push('if-none-match', entry.times.etag);
    if (entry.times.lastModified !== '') headers.push('if-modified-since', entry.times.lastModified);
    this.running.add(storeKey);
    const core = this.core;
    const requestTime = core.now();
    const generation = core.generation;
    const lookup = snapshotLookup(ctx);
    const path = ctx.path;
    const requestMs = ctx.route === null ? 0 : ctx.route.timeout.requestMs;
    this.upstream.fetch(fwd.upstream, { method: 'GET', path: fwd.path, headers, hashKey: fwd.hashKey },
      { timeoutMs: requestMs > 0 ? requestMs : 60_000, maxBodyBytes: core.settings.maxEntry }).then(
      (reply) => this.refreshed(key, path, entry, reply, requestTime, lookup, authorized, generation),
      (err: unknown) => {
        core.counters.refreshes[FAILED]++;
        this.logger.debug({ policy: core.settings.policy, path, err: err instanceof Error ? err.message : String(err) }, 'cache background refresh failed');
      },
    ).finally(() => this.running.delete(storeKey));
  }

  private refreshed(
    key: string, path: string, entry: CacheEntry, reply: UpstreamReply, requestTime: number,
    lookup: (name: string) => string, authorized: boolean, generation: number,
  ): void {
    const core = this.core;
    const rc = { requestTime, responseTime: core.now(), authorized };
    if (reply.status >= 500) {
      core.counters.refreshes[FAILED]++;
      return;
    }
    const notModified = reply.status === 304 && entry.revalidatable;
    const status = notModified ? entry.status : reply.status;
    const headers = notModified ? mergeNotModified(entry.headers, reply.headers) : reply.headers;
    const plan = planStore(status, headers, rc, core.settings);
    if (typeof plan === 'string') {
      core.delete(key);
      core.counters.refreshes[REMOVED]++;
      return;
    }
    const body = notModified ? entry.body : ownBuffer(reply.body);
    const varyValues = plan.varyNames === null ? '' : varyKey(plan.varyNames, lookup);
    core.storeEntry(key, path, status, plan, body, varyValues, generation, entry.varyRef);
    core.counters.refreshes[notModified ? REVALIDATED : UPDATED]++;
  }
}

/** A Buffer that owns exactly its memory (a pooled or sliced one would pin more than its length). */
function ownBuffer(b: Buffer): Buffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.length) return b;
  const out = Buffer.allocUnsafeSlow(b.length);
  b.copy(out);
  return out;
}
