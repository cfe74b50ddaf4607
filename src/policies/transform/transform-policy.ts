/**
 * One transform policy at run time: the requestBody phase (JSON edits of the
 * body sent upstream), the responseHead phase (the status map), and the
 * responseBody phase with its gate (body-gate.ts: non-JSON and oversize
 * responses are declined from the head, so they stream untouched).
 *
 * Per body: one JSON.parse, one walk along the precompiled paths, one
 * JSON.stringify; zlib only for compressed bodies.
 */
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../ingress/request-context.js';
import { getHeader, removeHeader } from '../../lib/header-list.js';
import type { Logger } from '../../observability/logger.js';
import { ERR_RESPONSE_TOO_LARGE } from '../body-gate.js';
import type { BufferedResponse, ResponseHead, Verdict } from '../types.js';
import { accepts, Coding, CODING_NAMES, codingOf, decode, encode, isJsonType, MIN_COMPRESS_BYTES, TooLarge } from '../../lib/body-codec.js';
import type { JsonOps } from './json-ops.js';
import {
  INVALID_JSON, PASSED_ENCODING, PASSED_NOT_JSON, PASSED_OVERSIZE, REFUSED_OVERSIZE, REQUEST, RESPONSE, TRANSFORMED, type TransformCounters,
} from './metrics.js';

const ERR_INVALID_JSON = new GatewayError(ErrorCodes.INVALID_JSON);
const ERR_UPSTREAM_INVALID_JSON = new GatewayError(ErrorCodes.UPSTREAM_INVALID_JSON);
const ERR_TOO_LARGE = new GatewayError(ErrorCodes.PAYLOAD_TOO_LARGE, 'The request body is larger than the route transforms');
const ERR_ENCODING = new GatewayError(ErrorCodes.UNSUPPORTED_CONTENT_ENCODING, 'A JSON body this route transforms must be sent as identity, gzip, deflate or br');
const ERR_UPSTREAM_UNDECODABLE = new GatewayError(ErrorCodes.UPSTREAM_BAD_RESPONSE, 'The upstream response body could not be decoded (Content-Encoding)');

const ERR_TOO_DEEP = new GatewayError(ErrorCodes.INVALID_JSON, 'The request body is nested too deeply');
const ERR_UPSTREAM_TOO_DEEP = new GatewayError(ErrorCodes.UPSTREAM_INVALID_JSON, 'The upstream response body is nested too deeply');

/** Minimum pause between two logged invalid upstream bodies of one policy, ms. */
const LOG_EVERY_MS = 1000;

/** What a transform policy runs with (compiled at load). */
export interface TransformSettings {
  readonly name: string;
  readonly maxBody: number;
  readonly failOversize: boolean;
  readonly request: JsonOps | null;
  readonly response: JsonOps | null;
  /** Status → mapped status (0: unmapped), indexed by status; null without a status map. */
  readonly status: Uint16Array | null;
}

/** The run-time state and phases of one transform policy. */
export class TransformRuntime {
  /** `side * 1e6 + route index` of the routes already warned about a non-JSON body. */
  private readonly warned = new Set<number>();
  private lastLog = 0;
  private unlogged = 0;

  constructor(readonly s: TransformSettings, private readonly counters: TransformCounters, private readonly logger: Logger) {}

  /** The requestBody phase: parse, edit, re-serialise (sent upstream uncompressed). */
  request(ctx: RequestContext, body: Buffer): Verdict {
    if (body.length === 0) return undefined;
    if (!isJsonType(ctx.header('content-type'))) { this.notJson(ctx, REQUEST); return undefined; }
    const coding = codingOf(ctx.header('content-encoding'));
    if (coding === Coding.Unsupported) { this.count(ctx, REQUEST + PASSED_ENCODING); return ERR_ENCODING; }
    let raw = body;
    if (coding !== Coding.Identity) {
      try {
        raw = decode(body, coding, this.s.maxBody);
      } catch (err) {
        if (err instanceof TooLarge) { this.count(ctx, REQUEST + REFUSED_OVERSIZE); return ERR_TOO_LARGE; }
        this.count(ctx, REQUEST + INVALID_JSON);
        return new GatewayError(ErrorCodes.BAD_REQUEST, `The request body could not be decoded as ${CODING_NAMES[coding]}`);
      }
    }
    if (raw.length > this.s.maxBody) { this.count(ctx, REQUEST + REFUSED_OVERSIZE); return ERR_TOO_LARGE; }
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      this.count(ctx, REQUEST + INVALID_JSON);
      return ERR_INVALID_JSON;
    }
    const text = serialise(this.s.request!.apply(value, ctx));
    if (text === null) { this.count(ctx, REQUEST + INVALID_JSON); return ERR_TOO_DEEP; }
    ctx.requestBody = Buffer.from(text);
    if (coding !== Coding.Identity) ctx.removeHeader('content-encoding');
    this.count(ctx, REQUEST + TRANSFORMED);
    return undefined;
  }

  /** The responseHead phase: the status map (not on problem responses). */
  head(head: ResponseHead): void {
    const to = head.status < 600 ? this.s.status![head.status] : 0;
    if (to === 0 || head.problem !== undefined) return;
    if (getHeader(head.headers, 'content-type').startsWith('application/problem+json')) return;
    head.status = to;
  }

  /** The body gate: declines non-JSON and undecodable bodies; takes up to maxBody (passes or fails above). */
  limit(ctx: RequestContext, head: ResponseHead): number {
    if (!isJsonType(getHeader(head.headers, 'content-type'))) { this.notJson(ctx, RESPONSE); return 0; }
    if (codingOf(getHeader(head.headers, 'content-encoding')) === Coding.Unsupported) { this.count(ctx, RESPONSE + PASSED_ENCODING); return 0; }
    return this.s.failOversize ? -this.s.maxBody : this.s.maxBody;
  }

  /** The gate left this policy out: the body outgrew maxBody. */
  passed(ctx: RequestContext): void {
    this.count(ctx, RESPONSE + PASSED_OVERSIZE);
  }

  /**
   * The responseBody phase. It checks what the gate checks too, so it works
   * on any BufferedResponse (a terminal that calls runResponseBody directly).
   */
  response(ctx: RequestContext, res: BufferedResponse): Verdict {
    const headers = res.headers;
    if (!isJsonType(getHeader(headers, 'content-type'))) { this.notJson(ctx, RESPONSE); return undefined; }
    const coding = codingOf(getHeader(headers, 'content-encoding'));
    if (coding === Coding.Unsupported) { this.count(ctx, RESPONSE + PASSED_ENCODING); return undefined; }
    if (res.body.length === 0) return undefined; // nothing to parse (a JSON type with an empty body)
    if (res.body.length > this.s.maxBody) return this.oversize(ctx);
    let raw = res.body;
    if (coding !== Coding.Identity) {
      try {
        raw = decode(res.body, coding, this.s.maxBody);
      } catch (err) {
        if (err instanceof TooLarge) return this.oversize(ctx);
        this.invalid(ctx, res.status, 'could not be decoded (' + CODING_NAMES[coding] + ')');
        return ERR_UPSTREAM_UNDECODABLE;
      }
    }
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      this.invalid(ctx, res.status, 'is not valid JSON');
      return ERR_UPSTREAM_INVALID_JSON;
    }
    const text = serialise(this.s.response!.apply(value, ctx));
    if (text === null) { this.invalid(ctx, res.status, 'is nested too deeply to serialise'); return ERR_UPSTREAM_TOO_DEEP; }
    let out: Buffer = Buffer.from(text);
    if (coding !== Coding.Identity) {
      // why: re-encoded with the upstream's own coding (the client accepts it:
      // the upstream chose it from the forwarded Accept-Encoding) unless the
      // client does not accept it or the result is too small to gain.
      if (out.length >= MIN_COMPRESS_BYTES && accepts(ctx.header('accept-encoding'), coding)) out = encode(out, coding);
      else removeHeader(headers, 'content-encoding');
      varyOnEncoding(headers);
    }
    removeHeader(headers, 'content-length');
    weakenEtag(headers);
    res.body = out;
    this.count(ctx, RESPONSE + TRANSFORMED);
    return undefined;
  }

  private oversize(ctx: RequestContext): Verdict {
    if (this.s.failOversize) { this.count(ctx, RESPONSE + REFUSED_OVERSIZE); return ERR_RESPONSE_TOO_LARGE; }
    this.count(ctx, RESPONSE + PASSED_OVERSIZE);
    return undefined;
  }

  /** An upstream body that does not parse: counted, logged (route and policy, never the body), at most once per second. */
  private invalid(ctx: RequestContext, status: number, what: string): void {
    this.count(ctx, RESPONSE + INVALID_JSON);
    const now = Date.now();
    if (now - this.lastLog < LOG_EVERY_MS) { this.unlogged++; return; }
    this.lastLog = now;
    const route = ctx.route === null ? '' : ctx.route.name;
    this.logger.warn({ route, policy: this.s.name, status, requestId: ctx.requestId, unlogged: this.unlogged },
      `transform: the upstream response body ${what}; answered 502`);
    this.unlogged = 0;
  }

  /** A body with another content type passes untouched: counted, and a warning once per route and side. */
  private notJson(ctx: RequestContext, side: number): void {
    this.count(ctx, side + PASSED_NOT_JSON);
    const key = side * 1e6 + ctx.routeIndex;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn({ route: ctx.route === null ? '' : ctx.route.name, policy: this.s.name, side: side === REQUEST ? 'request' : 'response' },
      'transform: a body that is not JSON passes untransformed (logged once per route)');
  }

  private count(ctx: RequestContext, slot: number): void {
    const route = ctx.route;
    this.counters.count(route === null ? 0 : route.index, route === null ? '' : route.name, slot);
  }
}

/**
 * JSON text of a value, or null when it is nested too deeply for
 * JSON.stringify (JSON.parse takes any depth; stringify recurses and throws
 * a RangeError past the stack).
 */
function serialise(value: unknown): string | null {
  try {
    return JSON.stringify(value);
  } catch {
    return null;
  }
}

/** Adds `Vary: accept-encoding` unless a Vary value already names it (the body now depends on it). */
function varyOnEncoding(headers: string[]): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'vary') continue;
    const v = headers[i + 1].toLowerCase();
    if (v.includes('accept-encoding') || v.includes('*')) return;
  }
  headers.push('vary', 'accept-encoding');
}

/** A strong ETag becomes weak: the body is no longer the upstream's bytes (RFC 9110 §8.8.1). */
function weakenEtag(headers: string[]): void {
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'etag' && !headers[i + 1].startsWith('W/')) headers[i + 1] = 'W/' + headers[i + 1];
  }
}
