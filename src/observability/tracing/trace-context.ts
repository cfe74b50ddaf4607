/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the
 * `traceparent` header read and written with plain loops, and random ids.
 * The SDK's W3CTraceContextPropagator does the same through a regex, a
 * Context and a carrier getter; every traced request reads one header and
 * writes one, so this is the whole of it.
 */
import { randomFillSync } from 'node:crypto';

/** A parsed incoming `traceparent` (ids lower-case hex). */
export interface ParentContext {
  traceId: string;
  parentId: string;
  sampled: boolean;
}

const ZERO_TRACE = '00000000000000000000000000000000';
const ZERO_SPAN = '0000000000000000';

/** Whether `s[from, from + n)` is lower-case hex (the spec allows no upper case). */
function isLowerHex(s: string, from: number, n: number): boolean {
  for (let i = from; i < from + n; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

/**
 * Parses a `traceparent` value; null when it is not valid (then the request
 * starts a new trace, and its `tracestate` is ignored). Version 00 must be
 * exactly 55 characters; a later version may append `-` and more fields,
 * which are ignored (spec §4.3, "future versions"); version ff is invalid.
 */
export function parseTraceparent(v: string): ParentContext | null {
  if (v.length < 55) return null;
  if (!isLowerHex(v, 0, 2) || v.charCodeAt(2) !== 45 || v.charCodeAt(35) !== 45 || v.charCodeAt(52) !== 45) return null;
  const version = v.slice(0, 2);
  if (version === 'ff') return null;
  if (v.length > 55 && (version === '00' || v.charCodeAt(55) !== 45)) return null;
  if (!isLowerHex(v, 3, 32) || !isLowerHex(v, 36, 16) || !isLowerHex(v, 53, 2)) return null;
  const traceId = v.slice(3, 35);
  const parentId = v.slice(36, 52);
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return null;
  // why: only the sampled bit (0x01) of the flags byte is defined; the low hex digit carries it.
  const low = v.charCodeAt(54);
  const sampled = ((low <= 57 ? low - 48 : low - 87) & 1) === 1;
  return { traceId, parentId, sampled };
}

/** The `traceparent` the gateway sends upstream: version 00, its own span as the parent. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return '00-' + traceId + '-' + spanId + (sampled ? '-01' : '-00');
}

// why: one randomFillSync and one hex conversion per 340 requests (24 bytes
// each) instead of two per request: an id is then a slice of a pre-made hex
// string (V8 makes a sliced string, no copy), where Buffer#toString('hex')
// per id costs a native call each (~170 ns on this VM, against ~20 ns for a
// slice); the getrandom call costs about the same for 4 KB as for 16 KB.
const POOL_BYTES = 8160;
const POOL = Buffer.allocUnsafe(POOL_BYTES);
let poolHex = '';
let poolAt = POOL_BYTES * 2;

/** Offset in {@link poolHex} of `chars` fresh hex characters. */
function take(chars: number): number {
  if (poolAt + chars > poolHex.length) {
    randomFillSync(POOL);
    poolHex = POOL.toString('hex');
    poolAt = 0;
  }
  const at = poolAt;
  poolAt += chars;
  return at;
}

let lastKey = 0;

/**
 * A random 16-byte trace id as 32 lower-case hex characters (never all
 * zero). Its ratio-sampling key is then {@link lastTraceIdRatioKey}.
 */
export function randomTraceId(): string {
  for (;;) {
    const at = take(32);
    const id = poolHex.slice(at, at + 32);
    if (id === ZERO_TRACE) continue;
    // why: the key comes from the bytes the id was made of (four reads)
    // instead of from its hex text; see lastTraceIdRatioKey.
    const b = at >> 1;
    lastKey = (POOL.readUInt32BE(b) ^ POOL.readUInt32BE(b + 4) ^ POOL.readUInt32BE(b + 8) ^ POOL.readUInt32BE(b + 12)) >>> 0;
    return id;
  }
}

/**
 * The sampling key of the id {@link randomTraceId} returned last: the XOR of
 * its four 32-bit big-endian words, which is what the SDK's
 * TraceIdRatioBasedSampler compares with {@link ratioUpperBound} (a test
 * holds the two to the same decisions). Asking the SDK sampler itself costs
 * ~450 ns per request on this VM (a regex and a character loop over the
 * sliced id string), most of an unsampled request's tracing cost.
 */
export function lastTraceIdRatioKey(): number {
  return lastKey;
}

/** TraceIdRatioBasedSampler's bound for `ratio`: a trace id whose key is below it is sampled. */
export function ratioUpperBound(ratio: number): number {
  const r = Number.isNaN(ratio) ? 0 : ratio >= 1 ? 1 : ratio <= 0 ? 0 : ratio;
  return r === 1 ? 0x100000000 : Math.floor(r * 0xffffffff);
}

/** A random 8-byte span id as 16 lower-case hex characters (never all zero). */
export function randomSpanId(): string {
  for (;;) {
    const at = take(16);
    const id = poolHex.slice(at, at + 16);
    if (id !== ZERO_SPAN) return id;
  }
}
