/**
 * One try of an UpstreamClient call as an undici dispatch handler: collects
 * the whole response (status, headers, body up to a limit) into a Promise,
 * without a response stream; abortable before or after undici dispatches
 * it, with an optional limit until the response headers (perTryTimeout).
 */
import type { Dispatcher } from 'undici';
import type { UpstreamReply } from './upstream-client.js';

/** Response headers that describe one hop, never returned to the caller. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

/** A try's perTryTimeout expired before its response headers (retried as `timeout`, answered 504 like undici's headers timeout). */
class PerTryTimeoutError extends Error {
  readonly code = 'UND_ERR_HEADERS_TIMEOUT';
  constructor(ms: number) { super('no response headers within perTryTimeout ' + ms + ' ms'); }
}

function perTryExpired(ex: FetchExchange, ms: number): void {
  ex.abort(new PerTryTimeoutError(ms));
}

/** Collects one try's whole response (undici dispatch handler). */
export class FetchExchange implements Dispatcher.DispatchHandler {
  /** Response status once the head arrived (0 before). */
  status = 0;
  tooLarge = false;
  readonly done: Promise<UpstreamReply>;
  private resolve!: (r: UpstreamReply) => void;
  private reject!: (err: unknown) => void;
  private rawHeaders: Buffer[] = [];
  private chunks: Buffer[] = [];
  private bytes = 0;
  private abortFn: ((err?: Error) => void) | null = null;
  private abortReason: unknown = null;
  private tryTimer: NodeJS.Timeout | null = null;

  constructor(readonly max: number) {
    this.done = new Promise<UpstreamReply>((resolve, reject) => { this.resolve = resolve; this.reject = reject; });
  }

  /** Limits the try until its response headers (the retry policy's perTryTimeout). */
  armPerTry(ms: number): void {
    this.tryTimer = setTimeout(perTryExpired, ms, this, ms);
  }

  /** Stops the perTryTimeout timer. */
  disarm(): void {
    if (this.tryTimer !== null) { clearTimeout(this.tryTimer); this.tryTimer = null; }
  }

  /** Aborts the try (now, or as soon as undici dispatches it). */
  abort(reason: unknown): void {
    if (this.abortReason !== null) return;
    this.abortReason = reason;
    if (this.abortFn !== null) this.abortFn(reason instanceof Error ? reason : new Error(String(reason)));
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.abortReason !== null) abort(this.abortReason instanceof Error ? this.abortReason : new Error(String(this.abortReason)));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (statusCode < 200) return true;
    this.disarm();
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.bytes > this.max) {
      this.tooLarge = true;
      this.abort(new Error('response too large'));
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    const c = this.chunks;
    this.resolve({ status: this.status, headers: flatRawHeaders(this.rawHeaders), body: c.length === 1 ? c[0] : Buffer.concat(c, this.bytes) });
  }

  onError(err: Error): void {
    this.reject(err);
  }
}

/** undici's raw response headers as a flat lower-case list, hop-by-hop headers (and those named in Connection) dropped. */
function flatRawHeaders(raw: Buffer[]): string[] {
  const out: string[] = [];
  let listed: Set<string> | null = null;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toString('latin1').toLowerCase();
    const value = raw[i + 1].toString('latin1');
    if (name === 'connection' && value !== '') {
      listed ??= new Set();
      for (const t of value.split(',')) listed.add(t.trim().toLowerCase());
    }
    if (HOP_BY_HOP.has(name)) continue;
    out.push(name, value);
  }
  if (listed === null) return out;
  const kept: string[] = [];
  for (let i = 0; i < out.length; i += 2) if (!listed.has(out[i])) kept.push(out[i], out[i + 1]);
  return kept;
}

