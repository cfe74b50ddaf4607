/**
 * Reads and rewrites the glibc symbol-version needs of an ELF64 little-endian
 * shared object (a Node addon), so that the official uWebSockets.js binaries,
 * built against glibc 2.38, load on glibc 2.36 (Debian 12).
 *
 * The only 2.38 imports those binaries have are the C23 variants
 * `__isoc23_strtol`, `__isoc23_strtoul` and `__isoc23_sscanf`, which differ
 * from the plain functions only in also accepting a `0b` binary prefix. The
 * patch points each of them at the plain function of the architecture's
 * baseline glibc version and marks the then unused GLIBC_2.38 need as weak.
 *
 * Pure functions over Buffers: no external tools, the input is never mutated.
 */

import { inspectGlibcNeeds, VER_FLG_WEAK, VERSYM_HIDDEN } from './elf-version-needs.js';
import type { ImportedSymbol } from './elf-version-needs.js';

export { ElfFormatError, inspectGlibcNeeds } from './elf-version-needs.js';
export type { GlibcNeeds, ImportedSymbol, VersionNeed } from './elf-version-needs.js';

const ISOC23_PREFIX = '__isoc23_';
const LIBC = 'libc.so.6';
/** Baseline glibc version of each architecture, keyed by ELF e_machine. */
const BASE_VERSION: Record<number, string> = { 62: 'GLIBC_2.2.5', 183: 'GLIBC_2.17' };

/** Plain names the `__isoc23_` imports are redirected to by default. */
export const DEFAULT_REDIRECTS: readonly string[] = ['strtol', 'strtoul', 'sscanf'];
/** Newest glibc version a patched binary may need by default (Debian 12). */
export const DEFAULT_MAX_GLIBC = 'GLIBC_2.36';

/** The ELF is well formed but cannot be made (or is not) compatible. */
export class GlibcCompatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GlibcCompatError';
  }
}

/** Options of {@link patchForOldGlibc}. */
export interface PatchOptions {
  /** Newest glibc the host has, `GLIBC_2.36` or `2.36`. Default {@link DEFAULT_MAX_GLIBC}. */
  readonly maxGlibc?: string;
  /** Plain names `__isoc23_<name>` may be redirected to. Default {@link DEFAULT_REDIRECTS}. */
  readonly redirect?: readonly string[];
  /** libc version the redirected imports bind to. Default: the architecture's baseline. */
  readonly baseVersion?: string;
}

/** What {@link patchForOldGlibc} did. */
export interface PatchResult {
  /** A new buffer (a copy even when nothing changed). */
  readonly buffer: Buffer;
  /** False when the input needed no change (absent or already patched). */
  readonly changed: boolean;
  readonly redirected: Array<{ from: string; to: string; version: string }>;
  /** `file:version` of each need newly marked weak. */
  readonly weakened: string[];
}

/** What {@link verifyPatched} checked. */
export interface VerifyReport {
  readonly maxGlibc: string;
  readonly importCount: number;
  /** Newest non-weak GLIBC version still needed, or null. */
  readonly highestRequired: string | null;
  /** `file:version` of each weak need. */
  readonly weakNeeds: string[];
}

/** Parses `GLIBC_2.38` (or bare `2.38`) into `[2, 38]`; null for other names (`GLIBC_PRIVATE`, `GLIBCXX_3.4`). */
export function parseGlibcVersion(name: string): number[] | null {
  const m = /^(?:GLIBC_)?(\d+(?:\.\d+)*)$/.exec(name);
  return m ? m[1].split('.').map(Number) : null;
}

/** Compares two parsed versions: negative, zero or positive like a sort comparator. */
export function compareGlibcVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** True when `version` is a GLIBC_x.y name newer than `max`. */
export function isGlibcNewerThan(version: string | null, max: readonly number[]): boolean {
  if (version === null || !version.startsWith('GLIBC_')) return false;
  const v = parseGlibcVersion(version);
  return v !== null && compareGlibcVersions(v, max) > 0;
}

function parseMax(maxGlibc: string | undefined): { name: string; parts: number[] } {
  const raw = maxGlibc ?? DEFAULT_MAX_GLIBC;
  const parts = parseGlibcVersion(raw);
  if (parts === null) throw new GlibcCompatError(`not a glibc version: ${JSON.stringify(raw)}`);
  return { name: `GLIBC_${parts.join('.')}`, parts };
}

function describe(list: readonly ImportedSymbol[]): string {
  return list.map((s) => `${s.name}@${s.version} (${s.file})`).join(', ');
}

/**
 * Returns a copy of `input` whose `__isoc23_X` imports (X in `redirect`) bind to
 * plain `X` at the baseline libc version, and whose glibc needs that no import
 * uses any more (or that are newer than `maxGlibc` and unused) are marked weak.
 * Idempotent. Throws {@link GlibcCompatError} when another import needs a glibc
 * newer than `maxGlibc`, or the baseline libc version is not among the needs.
 */
export function patchForOldGlibc(input: Buffer, opts: PatchOptions = {}): PatchResult {
  const max = parseMax(opts.maxGlibc);
  const before = inspectGlibcNeeds(input);
  const out = Buffer.from(input);
  const allowed = new Set(opts.redirect ?? DEFAULT_REDIRECTS);
  const targets = before.imports.filter((s) => s.name.startsWith(ISOC23_PREFIX) && allowed.has(s.name.slice(ISOC23_PREFIX.length)));
  const redirected: PatchResult['redirected'] = [];
  const freed = new Set<number>();
  if (targets.length > 0) {
    const baseName = opts.baseVersion ?? BASE_VERSION[before.machine];
    if (baseName === undefined) throw new GlibcCompatError(`no baseline glibc version known for e_machine ${before.machine}; pass baseVersion`);
    const base = before.needs.find((n) => n.file === LIBC && n.version === baseName);
    if (!base) throw new GlibcCompatError(`the binary has no ${LIBC} ${baseName} version need to bind ${targets[0].name} to`);
    for (const s of targets) {
      // why: "X" is the tail of "__isoc23_X" in .dynstr, so moving st_name past the prefix renames without editing the table.
      out.writeUInt32LE(s.nameOffset + ISOC23_PREFIX.length, s.entryOffset);
      if (before.versymOffset >= 0) {
        const at = before.versymOffset + s.symbolIndex * 2;
        out.writeUInt16LE((out.readUInt16LE(at) & VERSYM_HIDDEN) | base.index, at);
      }
      freed.add(s.versionIndex);
      redirected.push({ from: s.name, to: s.name.slice(ISOC23_PREFIX.length), version: baseName });
    }
  }
  const after = inspectGlibcNeeds(out);
  const offenders = after.imports.filter((s) => isGlibcNewerThan(s.version, max.parts));
  if (offenders.length > 0) {
    throw new GlibcCompatError(`cannot run on ${max.name}: ${describe(offenders)} need a newer glibc and have no known older equivalent`);
  }
  const used = new Set(after.imports.map((s) => s.versionIndex));
  const weakened: string[] = [];
  for (const n of after.needs) {
    if (n.weak || used.has(n.index) || !n.version.startsWith('GLIBC_')) continue;
    if (freed.has(n.index) || isGlibcNewerThan(n.version, max.parts)) {
      out.writeUInt16LE(n.flags | VER_FLG_WEAK, n.offset + 4);
      weakened.push(`${n.file}:${n.version}`);
    }
  }
  return { buffer: out, changed: !out.equals(input), redirected, weakened };
}

/**
 * Re-parses `buf` and asserts it loads on `maxGlibc` (default {@link DEFAULT_MAX_GLIBC}):
 * no `__isoc23_` import, no import bound to a newer glibc, no non-weak need of a newer glibc.
 * Returns a report, or throws {@link GlibcCompatError} listing every problem.
 */
export function verifyPatched(buf: Buffer, opts: { maxGlibc?: string } = {}): VerifyReport {
  const max = parseMax(opts.maxGlibc);
  const info = inspectGlibcNeeds(buf);
  const problems: string[] = [];
  const c23 = info.imports.filter((s) => s.name.startsWith(ISOC23_PREFIX));
  if (c23.length > 0) problems.push(`C23 imports remain: ${describe(c23)}`);
  const newer = info.imports.filter((s) => isGlibcNewerThan(s.version, max.parts));
  if (newer.length > 0) problems.push(`imports need a glibc newer than ${max.name}: ${describe(newer)}`);
  const strong = info.needs.filter((n) => !n.weak && isGlibcNewerThan(n.version, max.parts));
  if (strong.length > 0) problems.push(`non-weak needs newer than ${max.name}: ${strong.map((n) => `${n.file}:${n.version}`).join(', ')}`);
  if (problems.length > 0) throw new GlibcCompatError(`binary is not compatible with ${max.name}: ${problems.join('; ')}`);
  let highest: number[] | null = null;
  for (const n of info.needs) {
    if (n.weak || !n.version.startsWith('GLIBC_')) continue;
    const v = parseGlibcVersion(n.version);
    if (v && (highest === null || compareGlibcVersions(v, highest) > 0)) highest = v;
  }
  return {
    maxGlibc: max.name,
    importCount: info.imports.length,
    highestRequired: highest ? `GLIBC_${highest.join('.')}` : null,
    weakNeeds: info.needs.filter((n) => n.weak).map((n) => `${n.file}:${n.version}`),
  };
}
