/**
 * The access log: one JSON line per request, to stdout or a file,
 * on by default like nginx's. The request path only copies a few fields
 * into a pooled record; the lines are built and written every 20 ms (or
 * at once past 256 pending), in batches (line-writer.ts).
 */
import type { GatewayConfig } from '../../config/types.js';
import type { AccessLogField } from '../../config/log-config.js';
import type { RequestContext } from '../../ingress/request-context.js';
import { keyAuthSources } from '../../policies/key-auth/schema.js';
import type { KeyAuthConfig } from '../../policies/key-auth/schema.js';
import { AccessRecord, captureRecord } from './access-record.js';
import { LineWriter } from './line-writer.js';
import { redactQuery } from './query-redact.js';

/** How long a finished request's line may wait to be built and written. */
const FLUSH_MS = 20;
/** Pending lines that make the batch go out at once (bounds the record pool). */
const MAX_BATCH = 256;

/** Chunk size for a destination given in the options (tests). */
const WRITE_CHUNK_CHARS = 4096;

/** Milliseconds with microsecond precision (three decimals). */
function ms3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The query parameters the key-auth policies of a config read keys from (always redacted). */
export function keyAuthQueryParams(config: GatewayConfig): string[] {
  const out: string[] = [];
  const specs = [...Object.values(config.policies), ...config.routes.flatMap((r) => r.policies)];
  for (const spec of specs) {
    if (spec.kind !== 'key-auth') continue;
    const q = keyAuthSources(spec.config as KeyAuthConfig).query;
    if (q !== null) out.push(q.toLowerCase());
  }
  return out;
}

/** Options of {@link AccessLog} beyond the config (tests). */
export interface AccessLogOptions {
  /** Where lines go (default: a {@link LineWriter} on the configured file or stdout). */
  destination?: { write(line: string): unknown };
  /** Random source for success sampling (default Math.random). */
  random?: () => number;
}

/**
 * One worker's access log. `record` is called once per finished request;
 * nothing on it allocates beyond the first records of the pool.
 */
export class AccessLog {
  /** Whether the client IP is logged: the request handler must read the peer before the response ends. */
  readonly needsPeer: boolean;
  private readonly fields: readonly AccessLogField[];
  private readonly headers: boolean;
  private readonly ratio: number;
  private readonly random: () => number;
  private readonly redact: ReadonlySet<string>;
  private readonly out: { write(line: string): unknown };
  private readonly writer: LineWriter | null;
  /** Records of the current batch, pooled: [0, count) are in use. */
  private readonly records: AccessRecord[] = [];
  private count = 0;
  private scheduled = false;
  /** Most characters handed to the destination in one call (whole lines). */
  private readonly chunkChars: number;

  constructor(config: GatewayConfig, options: AccessLogOptions = {}) {
    const a = config.log.access;
    this.fields = a.fields;
    this.needsPeer = a.fields.includes('clientIp');
    this.headers = a.fields.includes('userAgent') || a.fields.includes('referer');
    this.ratio = a.successSampleRatio;
    this.random = options.random ?? Math.random;
    this.redact = new Set([...config.log.redactQuery, ...keyAuthQueryParams(config)]);
    this.writer = options.destination === undefined ? new LineWriter(a.file) : null;
    this.out = options.destination ?? this.writer!;
    this.chunkChars = this.writer === null ? WRITE_CHUNK_CHARS : this.writer.chunkChars;
  }

  /**
   * Notes a finished request (call before its upstream call is released).
   * Successes (status < 400) are sampled by `successSampleRatio`; errors and
   * aborted requests are always logged.
   */
  record(ctx: RequestContext, nowMs: number, durationMs: number, status: number): void {
    if (status < 400 && this.ratio < 1 && this.random() >= this.ratio) return;
    let r = this.records[this.count];
    if (r === undefined) { r = new AccessRecord(); this.records.push(r); }
    this.count++;
    captureRecord(r, ctx, nowMs, durationMs, status, this.headers);
    // why a 20 ms timer rather than every loop turn: a busy worker builds and
    // hands over a few hundred lines at once (one destination call per 4 KiB)
    // instead of a handful per turn; measured ~2 µs a request less.
    if (this.count === 1) setTimeout(flushBatch, FLUSH_MS, this).unref();
    else if (this.count === MAX_BATCH && !this.scheduled) {
      this.scheduled = true;
      setImmediate(flushBatch, this);
    }
  }

  /** Writes the pending lines (a timer, or an immediate once MAX_BATCH are pending). */
  flush(): void {
    this.scheduled = false;
    const n = this.count;
    if (n === 0) return;
    this.count = 0;
    const max = this.chunkChars;
    // why: the destination gets a few KiB of whole lines per call, not one
    // call per line: sonic-boom measures the byte length of its pending
    // chunk on every write (measured: ~5 µs a request when fed line by line).
    let chunk = '';
    for (let i = 0; i < n; i++) {
      const line = this.line(this.records[i]);
      if (chunk !== '' && chunk.length + line.length > max) {
        this.out.write(chunk);
        chunk = '';
      }
      chunk += line;
    }
    if (chunk !== '') this.out.write(chunk);
  }

  /** Writes what is pending and closes a file (worker drain). */
  async close(): Promise<void> {
    if (this.count > 0) this.flush();
    if (this.writer !== null) await this.writer.close();
  }

  /**
   * One line's JSON. Why by hand and not `logger.info(object)`: measured on
   * this 2-core VM, pino's serialisation of a 15-field object costs ~2.8 µs
   * per line (a plain JSON.stringify ~1.8 µs) against ~0.6 µs here; every
   * string value still goes through JSON.stringify (escaping), and empty
   * fields are left out.
   */
  line(r: AccessRecord): string {
    let o = '{"type":"access"';
    const f = this.fields;
    for (let i = 0; i < f.length; i++) {
      switch (f[i]) {
        case 'time': o += ',"time":"' + this.iso(r.time) + '"'; break;
        case 'requestId': o += ',"requestId":' + JSON.stringify(r.requestId); break;
        case 'traceId': if (r.traceId !== '') o += ',"traceId":"' + r.traceId + '"'; break;
        case 'clientIp': o += ',"clientIp":' + JSON.stringify(r.clientIp); break;
        case 'consumer': if (r.consumer !== '') o += ',"consumer":' + JSON.stringify(r.consumer); break;
        case 'method': o += ',"method":' + JSON.stringify(r.method); break;
        case 'host': o += ',"host":' + JSON.stringify(r.host); break;
        case 'path': o += ',"path":' + JSON.stringify(r.path); break;
        case 'query': if (r.query !== '') o += ',"query":' + JSON.stringify(redactQuery(r.query, this.redact)); break;
        case 'route': if (r.route !== '') o += ',"route":' + JSON.stringify(r.route); break;
        case 'upstream': if (r.upstream !== '') o += ',"upstream":' + JSON.stringify(r.upstream); break;
        case 'status': o += ',"status":' + r.status; break;
        case 'bytesIn': o += ',"bytesIn":' + r.bytesIn; break;
        case 'bytesOut': o += ',"bytesOut":' + r.bytesOut; break;
        case 'duration': o += ',"duration":' + ms3(r.durationMs); break;
        case 'upstreamDuration': if (r.upstreamMs >= 0) o += ',"upstreamDuration":' + ms3(r.upstreamMs); break;
        case 'cache': if (r.cache !== '') o += ',"cache":"' + r.cache + '"'; break;
        case 'retries': o += ',"retries":' + r.retries; break;
        case 'userAgent': if (r.userAgent !== '') o += ',"userAgent":' + JSON.stringify(r.userAgent); break;
        case 'referer': if (r.referer !== '') o += ',"referer":' + JSON.stringify(r.referer); break;
      }
    }
    return o + '}\n';
  }

  // why: Date#toISOString costs ~0.5 µs; the lines of one batch mostly share a millisecond.
  private lastTime = -1;
  private lastIso = '';

  private iso(ms: number): string {
    if (ms !== this.lastTime) {
      this.lastTime = ms;
      this.lastIso = new Date(ms).toISOString();
    }
    return this.lastIso;
  }
}

function flushBatch(log: AccessLog): void {
  log.flush();
}
