/**
 * The Redis store's value format: one string per record.
 *
 *   entry:  "TPC1" | uint32 BE meta length | meta JSON (UTF-8) | body bytes
 *   marker: "TPV1" | uint32 BE meta length | meta JSON (UTF-8)
 *
 * The meta holds the primary key, path, status, stored headers, times,
 * validators and Vary names/values. Decoding slices the body out of the
 * reply Buffer (no copy). A value that does not parse is treated as absent.
 */
import { CacheEntry, VaryMarker, type EntryTimes, type StoredRecord } from './cache-entry.js';

const ENTRY_MAGIC = 0x54504331; // "TPC1"
const MARKER_MAGIC = 0x54505631; // "TPV1"

interface EntryMeta {
  k: string; p: string; s: number; h: string[]; t: EntryTimesJson; vn: string[] | null; vv: string; ve: string;
}
interface MarkerMeta { k: string; p: string; ku: number; n: string[]; e: string }
/** EntryTimes with lastModifiedMs as null when NaN (JSON has no NaN). */
type EntryTimesJson = Omit<EntryTimes, 'lastModifiedMs'> & { lastModifiedMs: number | null };

/** Serialises a record into one Buffer. */
export function encodeRecord(r: StoredRecord): Buffer {
  if (r instanceof VaryMarker) {
    return frame(MARKER_MAGIC, JSON.stringify({ k: r.key, p: r.path, ku: r.keepUntil, n: [...r.names], e: r.epoch } satisfies MarkerMeta), null);
  }
  const e = r as CacheEntry;
  const t: EntryTimesJson = { ...e.times, lastModifiedMs: Number.isNaN(e.times.lastModifiedMs) ? null : e.times.lastModifiedMs };
  const meta: EntryMeta = { k: e.key, p: e.path, s: e.status, h: [...e.headers], t, vn: e.varyNames === null ? null : [...e.varyNames], vv: e.varyValues, ve: e.varyEpoch };
  return frame(ENTRY_MAGIC, JSON.stringify(meta), e.body);
}

function frame(magic: number, meta: string, body: Buffer | null): Buffer {
  const metaLen = Buffer.byteLength(meta);
  const out = Buffer.allocUnsafe(8 + metaLen + (body === null ? 0 : body.length));
  out.writeUInt32BE(magic, 0);
  out.writeUInt32BE(metaLen, 4);
  out.write(meta, 8, 'utf8');
  if (body !== null) body.copy(out, 8 + metaLen);
  return out;
}

/** Parses a stored value; null when it is not one this format produced. */
export function decodeRecord(buf: Buffer): StoredRecord | null {
  if (buf.length < 8) return null;
  const magic = buf.readUInt32BE(0);
  const metaLen = buf.readUInt32BE(4);
  if (8 + metaLen > buf.length || (magic !== ENTRY_MAGIC && magic !== MARKER_MAGIC)) return null;
  let meta: unknown;
  try {
    meta = JSON.parse(buf.toString('utf8', 8, 8 + metaLen));
  } catch {
    return null;
  }
  if (typeof meta !== 'object' || meta === null) return null;
  if (magic === MARKER_MAGIC) {
    const m = meta as MarkerMeta;
    if (typeof m.k !== 'string' || typeof m.p !== 'string' || typeof m.ku !== 'number' || !isStrings(m.n) || typeof m.e !== 'string') return null;
    return new VaryMarker(m.k, m.p, m.ku, m.n, m.e);
  }
  const m = meta as EntryMeta;
  if (typeof m.k !== 'string' || typeof m.p !== 'string' || typeof m.s !== 'number' || !isStrings(m.h) || m.h.length % 2 !== 0
    || typeof m.t !== 'object' || m.t === null || typeof m.vv !== 'string' || typeof m.ve !== 'string' || (m.vn !== null && !isStrings(m.vn))) return null;
  const t = m.t;
  if (![t.responseTime, t.initialAgeMs, t.freshUntil, t.swrMs, t.sieMs, t.keepUntil].every((n) => typeof n === 'number')) return null;
  const times: EntryTimes = {
    responseTime: t.responseTime, initialAgeMs: t.initialAgeMs, freshUntil: t.freshUntil, swrMs: t.swrMs, sieMs: t.sieMs,
    keepUntil: t.keepUntil, etag: String(t.etag ?? ''), lastModified: String(t.lastModified ?? ''),
    lastModifiedMs: typeof t.lastModifiedMs === 'number' ? t.lastModifiedMs : NaN,
    noCache: t.noCache === true, mustRevalidate: t.mustRevalidate === true,
  };
  return new CacheEntry(m.k, m.p, m.s, m.h, buf.subarray(8 + metaLen), times, m.vn, m.vv, m.ve);
}

function isStrings(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
