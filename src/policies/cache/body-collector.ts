/**
 * The cache's body tap (upstream/body-tap.ts): keeps references to the
 * chunks of a response streaming to the client, up to `maxEntry` bytes, and
 * at the end copies them once into one exactly sized Buffer (the stored body,
 * served to every hit without further copies). Past `maxEntry` it lets the
 * chunks go and detaches: the response streams on, uncached.
 */
import type { BodyTap } from '../../upstream/body-tap.js';

/** What becomes of the collected body. */
export interface CollectorSink {
  /** The whole body (exactly `bytes` long). */
  collected(body: Buffer): void;
  /** No body: too large, or the exchange ended early. */
  failed(reason: 'too-large' | 'aborted'): void;
}

/** Collects one response body for the cache. */
export class BodyCollector implements BodyTap {
  private chunks: Buffer[] | null = [];
  private bytes = 0;
  /** Set once the sink was told (collected or failed). */
  finished = false;

  constructor(private readonly maxBytes: number, private readonly sink: CollectorSink) {}

  chunk(chunk: Buffer): boolean {
    if (this.chunks === null) return false;
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      this.chunks = null;
      this.finish(null, 'too-large');
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  end(): void {
    const chunks = this.chunks;
    if (chunks === null) return;
    this.chunks = null;
    // why: allocUnsafeSlow gives the entry a buffer of its own (a pooled one
    // would pin its 8 KiB slab; a chunk would pin undici's read buffer).
    const body = Buffer.allocUnsafeSlow(this.bytes);
    let at = 0;
    for (let i = 0; i < chunks.length; i++) {
      chunks[i].copy(body, at);
      at += chunks[i].length;
    }
    this.finish(body, 'aborted');
  }

  abort(): void {
    if (this.chunks === null) return;
    this.chunks = null;
    this.finish(null, 'aborted');
  }

  private finish(body: Buffer | null, reason: 'too-large' | 'aborted'): void {
    if (this.finished) return;
    this.finished = true;
    if (body !== null) this.sink.collected(body);
    else this.sink.failed(reason);
  }
}
