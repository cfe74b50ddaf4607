/**
 * One JWKS endpoint, fetched by the gateway itself (never a URL a token
 * names): at worker start, every `cacheTtl`, and on demand when a token
 * names an unknown kid or the set is cold, at most once per `cooldown`
 * (a flood of random kids is one fetch, not a flood). Fetches are
 * single-flight and bounded by `timeout` (undici with an AbortSignal; TLS
 * trusts node's store plus the optional `ca` file; redirects are not
 * followed; bodies over 512 KiB are refused). When refreshes fail the last
 * good set stays in use until `maxStale` past its freshness; after that (or
 * before any fetch succeeded) the set is unusable and the policy answers
 * 503 rather than let a request through.
 */
import { rootCertificates } from 'node:tls';
import * as tls from 'node:tls';
import { Agent, request } from 'undici';
import type { Logger } from '../../observability/logger.js';
import { KeyIndex, parseJwks } from './keys.js';

/** A JWKS endpoint's settings (durations in ms). */
export interface JwksOptions {
  readonly url: string;
  readonly cacheTtlMs: number;
  readonly cooldownMs: number;
  readonly timeoutMs: number;
  readonly maxStaleMs: number;
  /** Extra CA certificates (PEM text), or null for node's store alone. */
  readonly ca: string | null;
}

/** How one fetch ended (the `result` label of the fetch counter). */
export const FETCH_RESULTS = ['ok', 'http_error', 'timeout', 'network', 'invalid'] as const;
export type FetchResult = (typeof FETCH_RESULTS)[number];

/** Largest JWKS body read. */
const MAX_BODY_BYTES = 512 * 1024;

/** Least wait before retrying a failed scheduled fetch. */
const MIN_RETRY_MS = 1000;

class FetchFailure extends Error {
  constructor(readonly result: FetchResult, message: string) {
    super(message);
  }
}

/** One JWKS endpoint and its current key set. */
export class JwksSource {
  /** The URL without query or fragment, for metrics, logs and status. */
  readonly label: string;
  /** Fetches by result, indexed like {@link FETCH_RESULTS}. */
  readonly fetches = FETCH_RESULTS.map(() => 0);
  lastError = '';
  /** The last good set (kept for status even when too stale to use). */
  private index: KeyIndex | null = null;
  private fetchedAt = 0;
  /** Until when the set may be used: last good fetch + cacheTtl + maxStale. */
  private usableUntil = 0;
  private inflight: Promise<boolean> | null = null;
  private lastDemand = -Infinity;
  private failures = 0;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly closing = new AbortController();
  private readonly dispatcher: Agent;
  private lastSkipped = '';

  constructor(readonly options: JwksOptions, private readonly now: () => number, private readonly logger: Logger) {
    const u = new URL(options.url);
    this.label = u.origin + u.pathname;
    const ca = options.ca === null ? undefined : [...defaultCaCertificates(), options.ca];
    this.dispatcher = new Agent({
      connect: { timeout: options.timeoutMs, ...(ca === undefined ? {} : { ca }) },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connections: 2,
    });
  }

  /** The first fetch (worker start); resolves either way, never rejects. */
  async start(): Promise<void> {
    const ok = await this.refresh();
    if (!ok) this.logger.warn({ jwks: this.label, reason: this.lastError }, 'JWKS not available at start: tokens cannot be verified with it until it is (503 auth_provider_unavailable)');
  }

  /** The usable key set at `now`, or null when cold or too stale. */
  keys(now: number): KeyIndex | null {
    return now < this.usableUntil ? this.index : null;
  }

  /**
   * A fetch on behalf of a request (unknown kid, cold set): the one in
   * flight, a new one when none started within `cooldown`, or null when
   * the cooldown forbids one. Resolves true when it succeeded.
   */
  demand(now: number): Promise<boolean> | null {
    if (this.inflight !== null) return this.inflight;
    if (now - this.lastDemand < this.options.cooldownMs) return null;
    this.lastDemand = now;
    return this.refresh();
  }

  /** Fetches the set now unless a fetch is in flight (single-flight). Resolves true on success. */
  refresh(): Promise<boolean> {
    if (this.inflight !== null) return this.inflight;
    if (this.closed) return Promise.resolve(false);
    const p = this.fetchAndSwap().finally(() => { this.inflight = null; });
    this.inflight = p;
    return p;
  }

  /** For /readyz details. */
  status(now: number): Record<string, unknown> {
    const state = this.index === null ? 'cold' : now < this.fetchedAt + this.options.cacheTtlMs ? 'fresh' : now < this.usableUntil ? 'stale' : 'expired';
    return {
      url: this.label, state, keys: this.index?.all.length ?? 0,
      fetchedAt: this.fetchedAt === 0 ? null : new Date(this.fetchedAt).toISOString(), lastError: this.lastError || null,
    };
  }

  /** Stops the timer and any fetch in flight, closes the connection pool. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.closing.abort();
    await this.dispatcher.close().catch(() => undefined);
  }

  private async fetchAndSwap(): Promise<boolean> {
    let ok = false;
    try {
      const doc = await this.fetchOnce();
      const now = this.now();
      const parsed = parseJwks(doc, this.index);
      const previous = this.index;
      this.index = new KeyIndex(parsed.keys);
      this.fetchedAt = now;
      this.usableUntil = now + this.options.cacheTtlMs + this.options.maxStaleMs;
      for (const k of parsed.keys) k.ref.usableUntil = this.usableUntil;
      // why: a key dropped (or changed) by a refresh ends the cached tokens it verified at once.
      if (previous !== null) for (const k of previous.all) if (!parsed.keys.includes(k)) k.ref.usableUntil = 0;
      this.fetches[0]++;
      this.failures = 0;
      this.lastError = '';
      ok = true;
      const skipped = parsed.skipped.join('; ');
      if (skipped !== '' && skipped !== this.lastSkipped) this.logger.warn({ jwks: this.label, skipped }, 'JWKS keys skipped');
      this.lastSkipped = skipped;
    } catch (err) {
      const failure = err instanceof FetchFailure ? err : new FetchFailure('invalid', err instanceof Error ? err.message : String(err));
      this.fetches[FETCH_RESULTS.indexOf(failure.result)]++;
      this.failures++;
      if (this.failures === 1 || failure.message !== this.lastError) {
        this.logger.warn({ jwks: this.label, result: failure.result, reason: failure.message }, 'JWKS fetch failed: the last good set stays in use up to maxStale');
      }
      this.lastError = failure.message;
    }
    this.schedule(ok);
    return ok;
  }

  private schedule(ok: boolean): void {
    if (this.closed) return;
    if (this.timer !== null) clearTimeout(this.timer);
    const o = this.options;
    const retry = Math.min(o.cacheTtlMs, Math.max(MIN_RETRY_MS, o.cooldownMs) * 2 ** Math.min(this.failures - 1, 16));
    this.timer = setTimeout(() => { void this.refresh(); }, ok ? o.cacheTtlMs : retry);
    this.timer.unref();
  }

  private async fetchOnce(): Promise<unknown> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    const signal = AbortSignal.any([timeout, this.closing.signal]);
    let body: Buffer;
    try {
      const res = await request(this.options.url, {
        method: 'GET', signal, dispatcher: this.dispatcher,
        headers: { accept: 'application/jwk-set+json, application/json' },
      });
      // why: a body destroyed early emits 'error'; unheard, that would be an uncaught exception.
      res.body.on('error', ignore);
      if (res.statusCode !== 200) {
        await res.body.dump().catch(ignore);
        throw new FetchFailure('http_error', `HTTP ${res.statusCode}`);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_BODY_BYTES) {
          // Leaving the loop destroys the body.
          throw new FetchFailure('invalid', `the JWKS is larger than ${MAX_BODY_BYTES} bytes`);
        }
        chunks.push(chunk as Buffer);
      }
      body = Buffer.concat(chunks);
    } catch (err) {
      if (err instanceof FetchFailure) throw err;
      if (timeout.aborted) throw new FetchFailure('timeout', `no complete answer within ${this.options.timeoutMs} ms`);
      const code = (err as { code?: unknown }).code;
      throw new FetchFailure('network', (typeof code === 'string' ? code + ': ' : '') + (err instanceof Error ? err.message : String(err)));
    }
    try {
      return JSON.parse(body.toString('utf8')) as unknown;
    } catch {
      throw new FetchFailure('invalid', 'the JWKS is not JSON');
    }
  }
}

function ignore(): void {
  // nothing to do
}

/** Node's default CA list (including NODE_EXTRA_CA_CERTS where node can tell), to which `ca` is added. */
function defaultCaCertificates(): readonly string[] {
  const get = (tls as unknown as { getCACertificates?: (type: string) => string[] }).getCACertificates;
  return typeof get === 'function' ? get('default') : rootCertificates;
}
