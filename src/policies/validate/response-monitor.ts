/**
 * The response monitor (`responses: monitor`): a streaming tap on the
 * upstream body (upstream/body-tap.ts), so the client response is never
 * buffered or delayed by it. Only uncompressed JSON bodies up to the
 * policy's `responseLimit` are collected; at the end they are parsed and
 * validated against the operation's response schema. A mismatch is counted
 * and logged (at most once a second per policy); the response is sent
 * unchanged either way.
 */
import type { ValidateFunction } from 'ajv';
import type { RequestContext } from '../../ingress/request-context.js';
import type { Logger } from '../../observability/logger.js';
import type { BodyTap } from '../../upstream/body-tap.js';
import type { ResponseHead } from '../types.js';
import { RESPONSE_MISMATCH, RESPONSE_SKIPPED, RESPONSE_VALID, type ValidateCounters } from './metrics.js';
import { isJsonType, type OperationCheck } from './part-checks.js';
import { ValidationErrors } from './validation-errors.js';

/** Minimum pause between two logged mismatches of one policy, ms. */
const LOG_EVERY_MS = 1000;

/** The monitor of one policy. */
export class ResponseMonitor {
  private lastLog = 0;

  constructor(
    private readonly policy: string, readonly limit: number,
    private readonly counters: ValidateCounters, private readonly logger: Logger,
  ) {}

  /** responseHead: attaches a tap when the response has a JSON schema to check. */
  onHead(ctx: RequestContext, op: OperationCheck, head: ResponseHead): void {
    const responses = op.responses;
    if (responses === null) return;
    const status = head.status;
    const schema = responses.get(String(status)) ?? responses.get(((status / 100) | 0) + 'XX') ?? responses.get('DEFAULT');
    if (schema === undefined) return;
    const h = head.headers;
    let type = '';
    let length = -1;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i];
      if (name === 'content-type') type = h[i + 1];
      else if (name === 'content-length') length = Number(h[i + 1]);
      else if (name === 'content-encoding' && h[i + 1] !== 'identity') return this.counters.response(ctx, RESPONSE_SKIPPED);
    }
    // A response some other policy taps (the cache) keeps that tap.
    if (!isJsonType(type) || length > this.limit || ctx.bodyTap !== null || ctx.method === 'HEAD') return this.counters.response(ctx, RESPONSE_SKIPPED);
    ctx.bodyTap = new MonitorTap(this, ctx, op, schema, status);
  }

  /** A complete body: validates it. */
  check(ctx: RequestContext, op: OperationCheck, schema: ValidateFunction, status: number, body: Buffer): void {
    let value: unknown;
    let errors: ValidationErrors | null = null;
    try {
      value = JSON.parse(body.toString('utf8'));
    } catch {
      errors = new ValidationErrors();
      errors.add('/response', '', '', 'is not valid JSON');
    }
    if (errors === null) {
      if (schema(value)) return this.counters.response(ctx, RESPONSE_VALID);
      errors = new ValidationErrors();
      errors.addAjv('/response', schema.errors);
    }
    this.counters.response(ctx, RESPONSE_MISMATCH);
    const now = Date.now();
    if (now - this.lastLog < LOG_EVERY_MS) return;
    this.lastLog = now;
    this.logger.warn({
      policy: this.policy, route: ctx.route?.name ?? '', operation: op.id, status, errorCount: errors.total,
      errors: errors.items.slice(0, 5).map((s) => JSON.parse(s) as unknown),
    }, 'upstream response does not match the OpenAPI document (monitor: sent unchanged)');
  }

  /** The body outgrew the limit (no Content-Length told it before). */
  skipped(ctx: RequestContext): void {
    this.counters.response(ctx, RESPONSE_SKIPPED);
  }
}

/** Collects one response body for the monitor. */
class MonitorTap implements BodyTap {
  private readonly parts: Buffer[] = [];
  private bytes = 0;

  constructor(
    private readonly monitor: ResponseMonitor, private readonly ctx: RequestContext, private readonly op: OperationCheck,
    private readonly schema: ValidateFunction, private readonly status: number,
  ) {}

  chunk(chunk: Buffer): boolean {
    this.bytes += chunk.length;
    if (this.bytes > this.monitor.limit) {
      this.parts.length = 0;
      this.monitor.skipped(this.ctx);
      return false;
    }
    this.parts.push(chunk);
    return true;
  }

  end(): void {
    const body = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.bytes);
    try {
      this.monitor.check(this.ctx, this.op, this.schema, this.status, body);
    } catch {
      // why: the monitor never affects the response; a failure of its own is not the client's problem.
    }
  }

  abort(): void {
    this.parts.length = 0;
  }
}
