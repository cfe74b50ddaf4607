/**
 * The cache of patched uWebSockets.js binaries: one file per source binary
 * and set of patches, created atomically once and verified (sha256 and a
 * re-parse of each patch) before every use, so racing workers and damaged
 * files are harmless.
 */

import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { patchForOldGlibc, verifyPatched } from './elf-glibc-compat.js';
import { hasRecvYieldPatch, patchRecvYield } from './recv-yield-patch.js';

/** Which patches a copy carries. */
export interface PatchSet {
  /** Newest glibc the copy must load on (the host's), or null for no glibc patch. */
  readonly maxGlibc: string | null;
  /** Whether the uSockets read loop yields after every recv (recv-yield-patch.ts). */
  readonly recvYield: boolean;
}

/** The cache directory could not be written (the patches themselves applied). */
export class CacheWriteError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CacheWriteError';
  }
}

interface Sidecar { sourceSha256: string; patchedSha256: string; patches: string[]; source: string; createdAt: string }

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
}

/** File-name tags of a patch set, e.g. `glibc-compat.recv-yield`. */
export function patchTags(patches: PatchSet): string[] {
  const tags: string[] = [];
  if (patches.maxGlibc !== null) tags.push('glibc-compat');
  if (patches.recvYield) tags.push('recv-yield');
  return tags;
}

/** Writes via a pid-unique temp file, fsync and rename, so racing workers never see a partial file. */
function writeFileAtomic(file: string, data: Buffer | string): void {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o644);
  try {
    writeFileSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Throws unless `buf` carries every patch of `patches`. */
function verifyPatches(buf: Buffer, patches: PatchSet): void {
  if (patches.maxGlibc !== null) verifyPatched(buf, { maxGlibc: patches.maxGlibc });
  if (patches.recvYield && !hasRecvYieldPatch(buf)) throw new Error('the recv-yield patch is missing');
}

function readTrustedCopy(target: string, sidecarPath: string, sourceSha: string, patches: PatchSet): boolean {
  try {
    const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as Partial<Sidecar>;
    if (sidecar.sourceSha256 !== sourceSha) return false;
    const cached = readFileSync(target);
    if (sha256(cached) !== sidecar.patchedSha256) return false;
    verifyPatches(cached, patches);
    return true;
  } catch {
    return false; // missing, unreadable or invalid: regenerate
  }
}

/** Applies `patches` to a copy of `source` and verifies the result (throws when a patch does not apply). */
export function applyPatches(source: Buffer, patches: PatchSet): Buffer {
  let out = source;
  if (patches.maxGlibc !== null) out = patchForOldGlibc(out, { maxGlibc: patches.maxGlibc }).buffer;
  if (patches.recvYield) out = patchRecvYield(out).buffer;
  verifyPatches(out, patches);
  return out;
}

/**
 * Returns the path of a verified copy of `sourcePath` carrying `patches` in
 * `cacheDir`, creating it when needed. Patch failures throw as the patch
 * modules do; an unwritable cache throws {@link CacheWriteError}.
 */
export function ensurePatchedCopy(
  sourcePath: string, source: Buffer, cacheDir: string, patches: PatchSet,
): { path: string; cacheHit: boolean } {
  const sourceSha = sha256(source);
  const tags = patchTags(patches);
  const target = join(cacheDir, `${basename(sourcePath, '.node')}.${sourceSha.slice(0, 16)}.${tags.join('.')}.node`);
  const sidecarPath = `${target}.json`;
  if (readTrustedCopy(target, sidecarPath, sourceSha, patches)) return { path: target, cacheHit: true };
  const patched = applyPatches(source, patches);
  try {
    mkdirSync(cacheDir, { recursive: true });
    // why: binary first, sidecar second; a reader racing in between sees a hash mismatch and rewrites identical bytes.
    writeFileAtomic(target, patched);
    const sidecar: Sidecar = {
      sourceSha256: sourceSha, patchedSha256: sha256(patched), patches: tags, source: sourcePath, createdAt: new Date().toISOString(),
    };
    writeFileAtomic(sidecarPath, `${JSON.stringify(sidecar, null, 2)}\n`);
  } catch (err) {
    throw new CacheWriteError(`cannot write the patched binary to ${cacheDir}`, { cause: err });
  }
  return { path: target, cacheHit: false };
}
