/**
 * Loads the native uWebSockets.js addon, falling back on glibc < 2.38 hosts
 * (Debian 12) to a cached copy patched by {@link patchForOldGlibc}.
 *
 * Every module of the gateway must get uWS through {@link loadUws}, never by
 * `import 'uWebSockets.js'`: the package's own entry loads the official binary
 * and fails on such hosts.
 */

import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Uws from 'uWebSockets.js';
import { patchForOldGlibc, verifyPatched } from './elf-glibc-compat.js';

/** The uWebSockets.js module type, as its typings declare it. */
export type UwsModule = typeof Uws;

/** Options of {@link loadUws}; only the first call of a process uses them. */
export interface UwsLoadOptions {
  /** Where the patched copy is kept. Default: env `TURNPIKE_UWS_CACHE_DIR`, else `<turnpike>/node_modules/.cache/turnpike-uws`. */
  readonly cacheDir?: string;
  /** Use the patched copy even when the official binary would load (tests, ops). */
  readonly forceCompat?: boolean;
  /** Directory of the installed uWebSockets.js package. Default: resolved from this module. */
  readonly packageDir?: string;
}

/** Which binary {@link loadUws} loaded, for startup logs. */
export interface UwsLoadInfo {
  /** `official`: the package's own binary; `glibc-compat`: the patched copy. */
  readonly mode: 'official' | 'glibc-compat';
  /** The .node file actually loaded. */
  readonly binaryPath: string;
  /** The package's binary it came from. */
  readonly sourcePath: string;
  /** For `glibc-compat`: whether a verified cached copy was reused; null for `official`. */
  readonly cacheHit: boolean | null;
  /** `process.versions.modules`. */
  readonly abi: string;
  /** glibc version of this process (Linux/glibc only), else null. */
  readonly glibcRuntime: string | null;
  /** Why the official binary was not used, when it was not. */
  readonly officialError: string | null;
}

interface Sidecar { sourceSha256: string; patchedSha256: string; source: string; createdAt: string }

const GLIBC_VERSION_ERROR = /version `GLIBC_[0-9.]+' not found/;
const FIX = 'Fix: run on a Linux distribution with glibc 2.38 or newer (e.g. Debian 13, Ubuntu 24.04) or use the project\'s Docker image.';

let loaded: { module: UwsModule; info: UwsLoadInfo } | undefined;
let glibcCache: string | null | undefined;

/** True when `err` is the dynamic loader's "version `GLIBC_x.y' not found" failure. */
export function isGlibcVersionError(err: unknown): boolean {
  return err instanceof Error && GLIBC_VERSION_ERROR.test(err.message);
}

/** glibc version of this process from the diagnostic report (null on musl or non-Linux). */
export function glibcRuntimeVersion(): string | null {
  if (glibcCache !== undefined) return glibcCache;
  if (process.platform !== 'linux') return (glibcCache = null);
  const report = process.report as NodeJS.ProcessReport & { excludeNetwork?: boolean };
  const prev = report.excludeNetwork;
  report.excludeNetwork = true; // why: the network section can do slow DNS lookups; we only need the header.
  try {
    const header = (report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    glibcCache = header?.glibcVersionRuntime ?? null;
  } finally {
    report.excludeNetwork = prev;
  }
  return glibcCache;
}

/** One line naming this platform, for error messages and logs. */
export function describePlatform(): string {
  const glibc = process.platform === 'linux' ? glibcRuntimeVersion() ?? 'none (musl?)' : 'n/a';
  return `platform=${process.platform} arch=${process.arch} node=${process.version} abi=${process.versions.modules} glibc=${glibc}`;
}

/** Thrown by {@link loadUws}; the message names the platform and the fix. */
export class UwsLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UwsLoadError';
  }
}

function platformError(reason: string, cause?: unknown): UwsLoadError {
  const detail = cause instanceof Error ? `\nCause: ${cause.message}` : '';
  return new UwsLoadError(`uWebSockets.js cannot be loaded: ${reason}\n  ${describePlatform()}\n${FIX}${detail}`, { cause });
}

const nativeRequire = createRequire(import.meta.url);

function resolvePackageDir(): string {
  try {
    // why: the package's `exports` hides package.json; its main entry (uws.js) sits at the package root.
    return dirname(nativeRequire.resolve('uWebSockets.js'));
  } catch (err) {
    throw platformError('the uWebSockets.js package is not installed (run `npm ci`)', err);
  }
}

function defaultCacheDir(packageDir: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'turnpike') {
      return join(dir, 'node_modules', '.cache', 'turnpike-uws');
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return join(dirname(packageDir), '.cache', 'turnpike-uws');
}

function sha256(buf: Buffer): string {
  return createHash('sha256').update(buf).digest('hex');
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

function readTrustedCopy(target: string, sidecarPath: string, sourceSha: string, maxGlibc: string): boolean {
  try {
    const sidecar = JSON.parse(readFileSync(sidecarPath, 'utf8')) as Partial<Sidecar>;
    if (sidecar.sourceSha256 !== sourceSha) return false;
    const cached = readFileSync(target);
    if (sha256(cached) !== sidecar.patchedSha256) return false;
    verifyPatched(cached, { maxGlibc });
    return true;
  } catch {
    return false; // missing, unreadable or invalid: regenerate
  }
}

/** Returns the path of a verified patched copy of `sourcePath` in `cacheDir`, creating it when needed. */
function ensureCompatCopy(sourcePath: string, cacheDir: string, maxGlibc: string): { path: string; cacheHit: boolean } {
  const source = readFileSync(sourcePath);
  const sourceSha = sha256(source);
  const target = join(cacheDir, `${basename(sourcePath, '.node')}.${sourceSha.slice(0, 16)}.glibc-compat.node`);
  const sidecarPath = `${target}.json`;
  if (readTrustedCopy(target, sidecarPath, sourceSha, maxGlibc)) return { path: target, cacheHit: true };
  const patched = patchForOldGlibc(source, { maxGlibc }).buffer;
  verifyPatched(patched, { maxGlibc });
  try {
    mkdirSync(cacheDir, { recursive: true });
    // why: binary first, sidecar second; a reader racing in between sees a hash mismatch and rewrites identical bytes.
    writeFileAtomic(target, patched);
    const sidecar: Sidecar = {
      sourceSha256: sourceSha, patchedSha256: sha256(patched), source: sourcePath, createdAt: new Date().toISOString(),
    };
    writeFileAtomic(sidecarPath, `${JSON.stringify(sidecar, null, 2)}\n`);
  } catch (err) {
    throw platformError(`cannot write the patched binary to ${cacheDir} (set TURNPIKE_UWS_CACHE_DIR to a writable directory)`, err);
  }
  return { path: target, cacheHit: false };
}

function loadCompat(sourcePath: string, cacheDir: string, officialError: string | null): { module: UwsModule; info: UwsLoadInfo } {
  const glibc = glibcRuntimeVersion();
  if (process.platform !== 'linux' || glibc === null) {
    throw platformError('the glibc compatibility copy only applies to glibc-based Linux');
  }
  let copy: { path: string; cacheHit: boolean };
  try {
    copy = ensureCompatCopy(sourcePath, cacheDir, glibc);
  } catch (err) {
    if (err instanceof UwsLoadError) throw err;
    throw platformError(`the official binary needs a newer glibc and could not be patched for glibc ${glibc}`, err);
  }
  let module: UwsModule;
  try {
    module = nativeRequire(copy.path) as UwsModule;
  } catch (err) {
    throw platformError(`the glibc-compatible copy ${copy.path} failed to load`, err);
  }
  const info: UwsLoadInfo = {
    mode: 'glibc-compat', binaryPath: copy.path, sourcePath, cacheHit: copy.cacheHit,
    abi: process.versions.modules, glibcRuntime: glibc, officialError,
  };
  return { module, info };
}

/**
 * Returns the uWebSockets.js native module, loaded once per process (later
 * calls return the same object and ignore their options).
 *
 * Tries the package's official `uws_<platform>_<arch>_<abi>.node`; if the
 * dynamic loader rejects it for a missing GLIBC version, loads a patched copy
 * kept in the cache directory (created atomically once, verified by sha256 and
 * by re-parsing before every use). Any other failure throws an Error naming
 * the platform and the fix.
 *
 * The .node is loaded directly, not through the package's `uws.js`, so the
 * JS-only `DeclarativeResponse` helper that file adds is absent (unused here).
 */
export function loadUws(options: UwsLoadOptions = {}): UwsModule {
  if (loaded) return loaded.module;
  const packageDir = options.packageDir !== undefined ? resolve(options.packageDir) : resolvePackageDir();
  const abi = process.versions.modules;
  const sourcePath = join(packageDir, `uws_${process.platform}_${process.arch}_${abi}.node`);
  if (!existsSync(sourcePath)) {
    throw platformError(`no prebuilt binary ${basename(sourcePath)} in ${packageDir} (unsupported platform, architecture or Node ABI)`);
  }
  const envDir = process.env.TURNPIKE_UWS_CACHE_DIR;
  const cacheDir = resolve(options.cacheDir ?? (envDir ? envDir : defaultCacheDir(packageDir)));
  if (options.forceCompat) {
    loaded = loadCompat(sourcePath, cacheDir, null);
    return loaded.module;
  }
  try {
    const module = nativeRequire(sourcePath) as UwsModule;
    loaded = {
      module,
      info: {
        mode: 'official', binaryPath: sourcePath, sourcePath, cacheHit: null,
        abi, glibcRuntime: glibcRuntimeVersion(), officialError: null,
      },
    };
  } catch (err) {
    if (process.platform !== 'linux' || !isGlibcVersionError(err)) throw platformError(`${basename(sourcePath)} failed to load`, err);
    loaded = loadCompat(sourcePath, cacheDir, (err as Error).message);
  }
  return loaded.module;
}

/** How uWS was loaded by {@link loadUws}, or undefined before the first successful load. */
export function uwsLoadInfo(): UwsLoadInfo | undefined {
  return loaded?.info;
}
