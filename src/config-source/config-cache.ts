/**
 * The local copy of the last applied etcd config, so a gateway can boot
 * while etcd is down. The file is the YAML document itself behind a one-line
 * comment header recording where it came from and its revision, so it is
 * also a valid config file (`turnpike validate --config` reads it).
 * @module
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Env variable naming the cache file. */
export const CONFIG_CACHE_VAR = 'TURNPIKE_CONFIG_CACHE';
/** Default cache file, relative to the working directory. */
export const DEFAULT_CONFIG_CACHE = '.turnpike/config-cache.yaml';

const HEADER = '# turnpike config cache: ';

/** What the header records. */
export interface CacheHeader {
  /** The etcd URL and prefix (`etcd://host:port/prefix`). */
  source: string;
  key: string;
  revision: number;
  /** ISO time it was written. */
  written: string;
}

/** A cache file read back. */
export interface CachedConfig {
  header: CacheHeader;
  /** The whole file (header line included, so line numbers in messages match the file). */
  text: string;
}

/** The cache path: TURNPIKE_CONFIG_CACHE, else `.turnpike/config-cache.yaml`; absolute. */
export function configCachePath(env: NodeJS.ProcessEnv = process.env): string {
  const v = env[CONFIG_CACHE_VAR];
  return resolve(v !== undefined && v.trim() !== '' ? v : DEFAULT_CONFIG_CACHE);
}

/**
 * Writes the cache atomically: a temp file beside it, then rename, so a
 * crash mid-write leaves the previous cache (never half a file).
 */
export function writeConfigCache(path: string, header: CacheHeader, yaml: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, `${HEADER}${JSON.stringify(header)}\n${yaml}`, { mode: 0o600 });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** Reads the cache; `null` when absent or without a valid header. */
export function readConfigCache(path: string): CachedConfig | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return null;
  }
  const nl = text.indexOf('\n');
  const first = nl < 0 ? text : text.slice(0, nl);
  if (!first.startsWith(HEADER)) return null;
  try {
    const h = JSON.parse(first.slice(HEADER.length)) as Partial<CacheHeader>;
    if (typeof h.source !== 'string' || typeof h.key !== 'string' || typeof h.revision !== 'number' || typeof h.written !== 'string') return null;
    return { header: h as CacheHeader, text };
  } catch {
    return null;
  }
}
