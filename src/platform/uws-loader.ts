/**
 * Loads the native uWebSockets.js addon: on Linux x64 a cached copy whose
 * read loop yields after every recv (recv-yield-patch.ts, so that
 * `HttpResponse.pause()` bounds what an upload can push into the worker), and
 * on glibc < 2.38 hosts (Debian 12) a copy also patched by
 * {@link patchForOldGlibc}; otherwise the official binary.
 *
 * Every module of the gateway must get uWS through {@link loadUws}, never by
 * `import 'uWebSockets.js'`: the package's own entry loads the official binary
 * and fails on such hosts.
 */

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as Uws from 'uWebSockets.js';
import { inspectGlibcNeeds, isGlibcNewerThan, parseGlibcVersion, type patchForOldGlibc } from './elf-glibc-compat.js';
import { CacheWriteError, ensurePatchedCopy } from './patched-copy.js';
import { findRecvYieldSite } from './recv-yield-patch.js';

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
  /**
   * Load a copy whose uSockets read loop yields after every recv (recv-yield-patch.ts).
   * Default: on, unless env `TURNPIKE_UWS_RECV_YIELD=0`. Ignored where the build is not recognised.
   */
  readonly recvYield?: boolean;
}

/** Which binary {@link loadUws} loaded, for startup logs. */
export interface UwsLoadInfo {
  /**
   * `official`: the package's own glibc needs (the binary may still carry the
   * recv-yield patch, see `recvYield`); `glibc-compat`: also patched for an older glibc.
   */
  readonly mode: 'official' | 'glibc-compat';
  /** The .node file actually loaded. */
  readonly binaryPath: string;
  /** The package's binary it came from. */
  readonly sourcePath: string;
  /** For a patched copy: whether a verified cached copy was reused; null when the package's binary was loaded. */
  readonly cacheHit: boolean | null;
  /** `process.versions.modules`. */
  readonly abi: string;
  /** glibc version of this process (Linux/glibc only), else null. */
  readonly glibcRuntime: string | null;
  /** Why the official binary was not used, when it was not. */
  readonly officialError: string | null;
  /** Whether the loaded binary's read loop yields after every recv, so `pause()` holds within 512 KiB. */
  readonly recvYield: boolean;
  /** Why `recvYield` is false (disabled, build not recognised, cache not writable), else null. */
  readonly recvYieldError: string | null;
}

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

/**
 * Returns the uWebSockets.js native module, loaded once per process (later
 * calls return the same object and ignore their options).
 *
 * Where the recv-yield patch applies (Linux x64 builds it recognises, unless
 * disabled), loads a copy carrying it, plus the glibc patch when the host's
 * glibc is older than the binary needs; if that copy cannot be written to the
 * cache, falls back to the official binary (`recvYield` false, reason in
 * `recvYieldError`). Otherwise tries the package's official
 * `uws_<platform>_<arch>_<abi>.node`; if the dynamic loader rejects it for a
 * missing GLIBC version, loads a glibc-patched copy. Copies are kept in the
 * cache directory (created atomically once, verified by sha256 and by
 * re-parsing before every use). Any other failure throws an Error naming the
 * platform and the fix.
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
  const wantYield = options.recvYield ?? process.env.TURNPIKE_UWS_RECV_YIELD !== '0';
  let yieldError: string | null = wantYield ? null : 'disabled (TURNPIKE_UWS_RECV_YIELD=0)';
  let source: Buffer | null = null;
  if (wantYield) {
    source = readFileSync(sourcePath);
    try {
      findRecvYieldSite(source);
    } catch (err) {
      yieldError = `build not recognised: ${(err as Error).message}`;
    }
  }
  if (source !== null && yieldError === null) {
    // why: decided before any dlopen, since an addon, once loaded, stays loaded.
    const glibcError = options.forceCompat ? null : missingGlibc(source);
    const compat = options.forceCompat === true || glibcError !== null;
    try {
      loaded = loadPatched(sourcePath, source, cacheDir, compat, true, glibcError);
      return loaded.module;
    } catch (err) {
      if (compat || !(err instanceof CacheWriteError)) throw err;
      yieldError = `${err.message}: ${(err.cause as Error | undefined)?.message ?? ''}`;
    }
  }
  if (options.forceCompat) {
    loaded = loadPatched(sourcePath, source ?? readFileSync(sourcePath), cacheDir, true, false, null, yieldError);
    return loaded.module;
  }
  try {
    const module = nativeRequire(sourcePath) as UwsModule;
    loaded = {
      module,
      info: {
        mode: 'official', binaryPath: sourcePath, sourcePath, cacheHit: null,
        abi, glibcRuntime: glibcRuntimeVersion(), officialError: null, recvYield: false, recvYieldError: yieldError,
      },
    };
  } catch (err) {
    if (process.platform !== 'linux' || !isGlibcVersionError(err)) throw platformError(`${basename(sourcePath)} failed to load`, err);
    loaded = loadPatched(sourcePath, source ?? readFileSync(sourcePath), cacheDir, true, false, (err as Error).message, yieldError);
  }
  return loaded.module;
}

/**
 * The dynamic loader's message for the newest glibc version `source` needs
 * (non-weak) beyond the host's, or null when the host's glibc suffices or is
 * unknown (then loading reports the problem itself).
 */
function missingGlibc(source: Buffer): string | null {
  const host = glibcRuntimeVersion();
  const hostParts = host === null ? null : parseGlibcVersion(host);
  if (hostParts === null) return null;
  const needs = inspectGlibcNeeds(source).needs.filter((n) => !n.weak && isGlibcNewerThan(n.version, hostParts));
  if (needs.length === 0) return null;
  return `${needs[0].file}: version \`${needs[0].version}' not found (host glibc ${host}, found by inspecting the binary's version needs)`;
}

/**
 * Loads a cached patched copy: glibc-patched when `compat`, recv-yield-patched
 * when `recvYield`. `officialError` says why the official binary was not used.
 */
function loadPatched(
  sourcePath: string, source: Buffer, cacheDir: string, compat: boolean, recvYield: boolean,
  officialError: string | null, recvYieldError: string | null = null,
): { module: UwsModule; info: UwsLoadInfo } {
  const glibc = glibcRuntimeVersion();
  if (compat && (process.platform !== 'linux' || glibc === null)) {
    throw platformError('the glibc compatibility copy only applies to glibc-based Linux');
  }
  let copy: { path: string; cacheHit: boolean };
  try {
    copy = ensurePatchedCopy(sourcePath, source, cacheDir, { maxGlibc: compat ? glibc : null, recvYield });
  } catch (err) {
    if (err instanceof CacheWriteError) {
      if (!compat) throw err;
      throw platformError(`cannot write the patched binary to ${cacheDir} (set TURNPIKE_UWS_CACHE_DIR to a writable directory)`, err.cause);
    }
    throw platformError(compat ? `the official binary needs a newer glibc and could not be patched for glibc ${glibc}`
      : 'the binary could not be patched', err);
  }
  let module: UwsModule;
  try {
    module = nativeRequire(copy.path) as UwsModule;
  } catch (err) {
    throw platformError(`the patched copy ${copy.path} failed to load`, err);
  }
  const info: UwsLoadInfo = {
    mode: compat ? 'glibc-compat' : 'official', binaryPath: copy.path, sourcePath, cacheHit: copy.cacheHit,
    abi: process.versions.modules, glibcRuntime: glibc, officialError, recvYield, recvYieldError,
  };
  return { module, info };
}

/** How uWS was loaded by {@link loadUws}, or undefined before the first successful load. */
export function uwsLoadInfo(): UwsLoadInfo | undefined {
  return loaded?.info;
}
