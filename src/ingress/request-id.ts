import { randomBytes } from 'node:crypto';

/**
 * Generates X-Request-Id values: a random per-process prefix plus a counter,
 * e.g. `5f1c9a2e7b3d-1a`. Unique across workers and restarts (96 random bits
 * per process) and ordered within one worker.
 *
 * why: crypto.randomUUID() was the largest allocation of our own code on the
 * request path (measured in results/proxy-bench-findings.md); a prefix and a
 * counter cost one short string concatenation.
 */
export class RequestIdGenerator {
  private readonly prefix: string;
  private counter = 0;

  constructor(prefix: string = randomBytes(12).toString('hex')) {
    this.prefix = prefix + '-';
  }

  /** The next id. */
  next(): string {
    return this.prefix + (++this.counter).toString(36);
  }
}
