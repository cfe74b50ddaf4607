/**
 * The Redis rate-limit store: one atomic Lua script per algorithm
 * (token-bucket.lua, sliding-window.lua, quota.lua, mirroring algorithms.ts),
 * run with EVALSHA. A node that lacks the script (restart, SCRIPT FLUSH, a
 * cluster node never used before) answers NOSCRIPT; the store then sends the
 * script once with EVAL, which runs it on the node owning the key and caches
 * it there, so each node is loaded on first use. `preload()` loads all three
 * on every node up front.
 *
 * Keys: `tp:rl:{<name>:<key>}` (token bucket), `…:<window index>` (sliding
 * window), `…:<2026-11-22 | 2026-11>` (quota). The hash tag `{<name>:<key>}`
 * puts every key of one (limit, key) pair in one slot, as Redis Cluster needs
 * for a multi-key script.
 *
 * Where the .lua files are found: the compiled JS lives in dist/src/… (or
 * .cache/dist-x/src/…) while the .lua files stay in src/. The store looks next
 * to this JS file first (for a build that copies them), then walks up to the
 * nearest folder with a package.json and uses its src/policies/rate-limit/.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster, Redis } from 'ioredis';
import { QuotaPeriodCache, quotaKind } from './algorithms.js';
import type { LimitSpec, RateLimitStore, TakeResult } from './store.js';

/** Why a Redis take failed: not connected, no answer in time, or an error reply. */
export type RedisStoreErrorCode = 'REDIS_DOWN' | 'REDIS_TIMEOUT' | 'REDIS_ERROR';

/** A failed Redis take; `code` tells the policy what happened. */
export class RedisStoreError extends Error {
  /** REDIS_DOWN | REDIS_TIMEOUT | REDIS_ERROR. */
  readonly code: RedisStoreErrorCode;

  /** Wraps `cause` (an ioredis error, or none for a timeout). */
  constructor(code: RedisStoreErrorCode, message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'RedisStoreError';
    this.code = code;
  }
}

/** Options of RedisStore. */
export interface RedisStoreOptions {
  /** Bound on one take (EVALSHA plus a NOSCRIPT retry), ms; default 100. */
  readonly timeoutMs?: number;
}

interface LuaScript {
  readonly src: string;
  readonly sha: string;
}

/** The three scripts, by algorithm. */
interface Scripts {
  readonly 'token-bucket': LuaScript;
  readonly 'sliding-window': LuaScript;
  readonly quota: LuaScript;
}

const SCRIPT_NAMES = ['token-bucket', 'sliding-window', 'quota'] as const;
let loaded: Scripts | null = null;

/** The folder holding the .lua files (see the file's TSDoc for the search order). */
export function findScriptDir(fromUrl: string = import.meta.url): string {
  const here = dirname(fileURLToPath(fromUrl));
  if (existsSync(join(here, 'token-bucket.lua'))) return here;
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, 'src', 'policies', 'rate-limit');
    if (existsSync(join(dir, 'package.json')) && existsSync(join(candidate, 'token-bucket.lua'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`rate-limit Lua scripts not found next to ${here} nor under <package root>/src/policies/rate-limit/`);
}

/** Reads the three scripts once per process and hashes them. */
export function loadScripts(): Scripts {
  if (loaded !== null) return loaded;
  const dir = findScriptDir();
  const read = (name: string): LuaScript => {
    const src = readFileSync(join(dir, `${name}.lua`), 'utf8');
    return { src, sha: createHash('sha1').update(src).digest('hex') };
  };
  loaded = { 'token-bucket': read('token-bucket'), 'sliding-window': read('sliding-window'), quota: read('quota') };
  return loaded;
}

/** The base key of one (limit, key) pair; every Redis key of the pair starts with it. */
export function rateLimitKey(spec: LimitSpec, key: string): string {
  return `tp:rl:{${spec.name}:${key}}`;
}

const DOWN_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|BUSY)\b/;
const DOWN_MESSAGE = /writeable|Connection is closed|isn't ready|refresh slots|ECONN|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN|socket/i;

/** Maps an ioredis error to a RedisStoreError with a code. */
export function classifyRedisError(err: unknown): RedisStoreError {
  if (err instanceof RedisStoreError) return err;
  const e = err as { name?: string; message?: string; code?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(err);
  let code: RedisStoreErrorCode = 'REDIS_ERROR';
  if (e?.name === 'ReplyError') {
    if (DOWN_REPLY.test(message)) code = 'REDIS_DOWN';
  } else if (
    e?.name === 'MaxRetriesPerRequestError' || e?.name === 'ClusterAllFailedError' ||
    DOWN_MESSAGE.test(message) || (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code))
  ) {
    code = 'REDIS_DOWN';
  }
  return new RedisStoreError(code, `Redis rate-limit take failed: ${message}`, err);
}

function isNoScript(err: unknown): boolean {
  const msg = (err as { message?: unknown } | null)?.message;
  return typeof msg === 'string' && msg.startsWith('NOSCRIPT');
}

/** A rate-limit store on Redis (one node or a cluster), atomic per key via Lua. */
export class RedisStore implements RateLimitStore {
  /** Redis commands sent so far (EVALSHA, EVAL after NOSCRIPT, SCRIPT LOAD). */
  commands = 0;
  private readonly client: Redis | Cluster;
  private readonly timeoutMs: number;
  private readonly scripts: Scripts;
  private readonly periods = new QuotaPeriodCache();

  /** Wraps a connected (or connecting) ioredis client; see createRedisClient. */
  constructor(client: Redis | Cluster, opts: RedisStoreOptions = {}) {
    this.client = client;
    this.timeoutMs = opts.timeoutMs ?? 100;
    this.scripts = loadScripts();
  }

  /** Loads the three scripts on every node (every master of a cluster), so first takes skip the NOSCRIPT round trip. */
  async preload(): Promise<void> {
    const nodes: Redis[] = this.client.isCluster ? (this.client as Cluster).nodes('master') : [this.client as Redis];
    const loads: Promise<unknown>[] = [];
    for (const node of nodes) {
      for (const name of SCRIPT_NAMES) {
        this.commands++;
        loads.push(node.script('LOAD', this.scripts[name].src));
      }
    }
    try {
      await Promise.all(loads);
    } catch (err) {
      throw classifyRedisError(err);
    }
  }

  /** Atomically takes (n > 0) or gives back (n < 0) tokens; rejects with a RedisStoreError. */
  take(spec: LimitSpec, key: string, n: number, nowMs: number): Promise<TakeResult> {
    const count = Math.trunc(n);
    const now = Math.floor(nowMs);
    const base = rateLimitKey(spec, key);
    switch (spec.algorithm) {
      case 'token-bucket':
        return this.run(this.scripts['token-bucket'], [base], [spec.limit, spec.windowMs, spec.burst, count, now]);
      case 'sliding-window': {
        const cur = Math.floor(now / spec.windowMs);
        return this.run(this.scripts['sliding-window'], [`${base}:${cur - 1}`, `${base}:${cur}`], [spec.limit, spec.windowMs, count, now]);
      }
      case 'quota': {
        const p = this.periods.get(quotaKind(spec), now);
        return this.run(this.scripts.quota, [`${base}:${p.id}`], [spec.limit, count, now, p.endMs]);
      }
      default:
        return Promise.reject(new TypeError(`unknown rate-limit algorithm ${String((spec as LimitSpec).algorithm)}`));
    }
  }

  private run(script: LuaScript, keys: string[], args: number[]): Promise<TakeResult> {
    return new Promise<TakeResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new RedisStoreError('REDIS_TIMEOUT', `Redis rate-limit take got no answer within ${this.timeoutMs} ms`));
      }, this.timeoutMs);
      this.evalScript(script, keys, args).then(
        (reply) => {
          clearTimeout(timer);
          const r = reply as number[];
          resolve({ granted: r[0], remaining: r[1], resetMs: r[2], retryAfterMs: r[3] });
        },
        (err: unknown) => {
          clearTimeout(timer);
          reject(classifyRedisError(err));
        },
      );
    });
  }

  private async evalScript(script: LuaScript, keys: string[], args: number[]): Promise<unknown> {
    this.commands++;
    try {
      return await this.client.evalsha(script.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!isNoScript(err)) throw err;
      this.commands++;
      return await this.client.eval(script.src, keys.length, ...keys, ...args);
    }
  }
}
