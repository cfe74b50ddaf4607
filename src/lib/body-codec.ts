/**
 * What reading and rewriting JSON bodies needs around JSON.parse/stringify
 * (the transform and validate kinds, aggregate calls): whether a content
 * type is JSON, and the content codings decoded and re-encoded (gzip,
 * deflate, br through node:zlib; bounded output).
 */
import { brotliCompressSync, brotliDecompressSync, constants, deflateSync, gzipSync, gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';

/** A content coding the kind handles (0: none / identity). */
export const enum Coding {
  Identity = 0,
  Gzip = 1,
  Deflate = 2,
  Br = 3,
  /** Anything else (zstd, compress, a list of codings): the body cannot be read. */
  Unsupported = 4,
}

/** The Content-Encoding names, by {@link Coding}. */
export const CODING_NAMES: readonly string[] = ['identity', 'gzip', 'deflate', 'br', 'unsupported'];

/** Outputs smaller than this are sent uncompressed: compressing them does not pay. */
export const MIN_COMPRESS_BYTES = 1024;

/** Whether a Content-Type value is JSON: application/json or any `+json` type (parameters ignored). */
export function isJsonType(contentType: string): boolean {
  let end = contentType.indexOf(';');
  if (end < 0) end = contentType.length;
  const t = contentType.slice(0, end).trim().toLowerCase();
  return t === 'application/json' || (t.endsWith('+json') && t.indexOf('/') > 0);
}

/** The coding a Content-Encoding value names. */
export function codingOf(value: string): Coding {
  if (value === '') return Coding.Identity;
  const v = value.trim().toLowerCase();
  switch (v) {
    case '': case 'identity': return Coding.Identity;
    case 'gzip': case 'x-gzip': return Coding.Gzip;
    case 'deflate': return Coding.Deflate;
    case 'br': return Coding.Br;
    default: return Coding.Unsupported;
  }
}

/** Thrown by {@link decode} when the decoded body is over the limit. */
export class TooLarge extends Error {
  override readonly name = 'TooLarge';
}

/**
 * Decodes a body; at most `max` bytes of output (else {@link TooLarge}).
 * Throws another error on corrupt data. `deflate` accepts the zlib format
 * (RFC 9110) and, as browsers do, raw deflate.
 */
export function decode(body: Buffer, coding: Coding, max: number): Buffer {
  const opts = { maxOutputLength: max };
  try {
    switch (coding) {
      case Coding.Gzip: return gunzipSync(body, opts);
      case Coding.Deflate:
        try { return inflateSync(body, opts); } catch (err) {
          if (isTooLarge(err)) throw err;
          return inflateRawSync(body, opts);
        }
      case Coding.Br: return brotliDecompressSync(body, opts);
      default: return body;
    }
  } catch (err) {
    if (isTooLarge(err)) throw new TooLarge('decoded body over ' + max + ' bytes');
    throw err;
  }
}

function isTooLarge(err: unknown): boolean {
  return err instanceof RangeError || (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
}

// why: brotli's default quality (11) costs tens of ms per 100 KiB; 5 is
// close to gzip's speed with a better ratio.
const BROTLI_OPTS = { params: { [constants.BROTLI_PARAM_QUALITY]: 5 } };

/** Encodes a body with `coding` (gzip/deflate at zlib's default level 6, br at quality 5). */
export function encode(body: Buffer, coding: Coding): Buffer {
  switch (coding) {
    case Coding.Gzip: return gzipSync(body);
    case Coding.Deflate: return deflateSync(body);
    case Coding.Br: return brotliCompressSync(body, BROTLI_OPTS);
    default: return body;
  }
}

/**
 * Whether an Accept-Encoding value accepts `coding` (RFC 9110 §12.5.3: named
 * with q > 0, or `*` with q > 0 and not named with q=0). An absent header
 * accepts nothing but identity here (the gateway does not guess).
 */
export function accepts(acceptEncoding: string, coding: Coding): boolean {
  if (acceptEncoding === '') return false;
  const name = CODING_NAMES[coding];
  let star = false;
  for (const item of acceptEncoding.split(',')) {
    const semi = item.indexOf(';');
    const token = (semi < 0 ? item : item.slice(0, semi)).trim().toLowerCase();
    const q = semi < 0 ? 1 : qValue(item.slice(semi + 1));
    if (token === name || (coding === Coding.Gzip && token === 'x-gzip')) return q > 0;
    if (token === '*') star = q > 0;
  }
  return star;
}

/** The q parameter of an Accept-Encoding item's parameters (1 when absent or unreadable). */
function qValue(params: string): number {
  for (const p of params.split(';')) {
    const eq = p.indexOf('=');
    if (eq < 0 || p.slice(0, eq).trim().toLowerCase() !== 'q') continue;
    const n = Number(p.slice(eq + 1).trim());
    return Number.isFinite(n) ? n : 1;
  }
  return 1;
}
