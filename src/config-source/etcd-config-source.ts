/**
 * The etcd config source: the whole YAML document lives in one key,
 * `<prefix>/config`, watched for new revisions. Each revision is validated
 * exactly as a file is (its messages name `etcd://…/config@revN:line:col`);
 * an invalid one is refused and recorded, and the last good config keeps
 * serving. The last applied document is cached on disk so the gateway can
 * boot while etcd is down; after an outage it catches up with a read.
 * @module
 */
import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import { formatEtcdUrl, type EtcdLocation } from '../lib/etcd-endpoints.js';
import { ConfigRejected, ConfigSourceError, type ConfigSource, type ConfigSourceDetails, type SourcedConfig } from './config-source.js';
import { readConfigCache, writeConfigCache } from './config-cache.js';
import { configKey } from './etcd-client.js';
import { createEtcdClient } from '../lib/etcd-client.js';

/** Options of {@link etcdConfigSource}. */
export interface EtcdConfigSourceOptions {
  location: EtcdLocation;
  /** Validates and normalises YAML text (parseConfig with the process env); throws ConfigError. */
  parse: (text: string, name: string) => GatewayConfig;
  /** Absolute path of the cache file. */
  cachePath: string;
  /** Safety-net re-read of the key while watching (default 5 s). */
  resyncMs?: number;
}

/** A revision of the document as read from etcd or the cache. */
interface Doc { text: string; revision: number }

const RETRY_MIN_MS = 200;
const RETRY_MAX_MS = 2000;

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Creates the source; nothing is contacted until `initial()`. */
export function etcdConfigSource(options: EtcdConfigSourceOptions): ConfigSource {
  return new EtcdConfigSource(options);
}

class EtcdConfigSource implements ConfigSource {
  private readonly client: Etcd3;
  private readonly key: string;
  private readonly url: string;
  private applied: Doc | null = null;
  private pending: Doc | null = null;
  private rejected: { revision: number | null; reason: string } | null = null;
  private connected = false;
  private bootedFromCache: { reason: string } | null = null;
  private closed = false;
  private logger: Logger | null = null;
  private changed: () => void = () => {};
  private watcher: Watcher | null = null;
  private resync: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs = RETRY_MIN_MS;
  /** Texts handed out by `next()` by revision, until settled. */
  private readonly docs = new Map<number, Doc>();

  constructor(private readonly opts: EtcdConfigSourceOptions) {
    this.client = createEtcdClient(opts.location.endpoints);
    this.key = configKey(opts.location.prefix);
    this.url = `${formatEtcdUrl(opts.location)}/config`;
  }

  private nameOf(revision: number): string {
    return `${this.url}@rev${revision}`;
  }

  /** The key's current value, `null` when absent; throws when etcd cannot be reached. */
  private async read(): Promise<Doc | null> {
    const res = await this.client.get(this.key).exec();
    this.markConnected();
    const kv = res.kvs[0];
    return kv === undefined ? null : { text: kv.value.toString('utf8'), revision: Number(kv.mod_revision) };
  }

  async initial(): Promise<SourcedConfig> {
    let doc: Doc | null = null;
    let unreachable: string | null = null;
    try {
      doc = await this.read();
    } catch (err) {
      unreachable = `etcd at ${this.opts.location.endpoints.join(',')} is unreachable (${reasonOf(err)})`;
    }
    if (doc !== null) {
      try {
        const config = this.opts.parse(doc.text, this.nameOf(doc.revision));
        this.applied = doc;
        this.saveCache(doc);
        return { config, revision: doc.revision, name: this.nameOf(doc.revision) };
      } catch (err) {
        if (readConfigCache(this.opts.cachePath) === null) throw err;
        this.rejected = { revision: doc.revision, reason: reasonOf(err) };
        return this.fromCache(`revision ${doc.revision} is invalid`);
      }
    }
    return this.fromCache(unreachable ?? `etcd holds no config at ${this.key} (push one with \`turnpike config push\`)`);
  }

  private fromCache(why: string): SourcedConfig {
    const cached = readConfigCache(this.opts.cachePath);
    if (cached === null) throw new ConfigSourceError(`${why}, and there is no config cache at ${this.opts.cachePath}`);
    const { header } = cached;
    if (header.key !== this.key) throw new ConfigSourceError(`${why}, and the config cache ${this.opts.cachePath} holds ${header.key} (not ${this.key})`);
    const config = this.opts.parse(cached.text, this.opts.cachePath);
    // The header line is not part of the document: keep the text as pushed.
    this.applied = { text: cached.text.slice(cached.text.indexOf('\n') + 1), revision: header.revision };
    this.bootedFromCache = { reason: why };
    return { config, revision: header.revision, name: this.opts.cachePath };
  }

  async next(force: boolean): Promise<SourcedConfig | null> {
    let candidate = this.pending;
    try {
      const current = await this.read();
      if (current !== null && (candidate === null || current.revision >= candidate.revision)) candidate = current;
    } catch {
      // etcd is down: the revision the watch delivered (if any) is the latest we know
    }
    this.pending = null;
    const appliedRev = this.applied?.revision ?? 0;
    const fresh = candidate !== null && candidate.revision > appliedRev && (force || candidate.revision !== this.rejected?.revision);
    if (!fresh) {
      if (!force || this.applied === null) return null;
      candidate = this.applied; // SIGHUP: re-apply the serving revision (re-reads the files it names)
    }
    const doc = candidate!;
    const name = this.nameOf(doc.revision);
    try {
      const config = this.opts.parse(doc.text, name);
      this.docs.set(doc.revision, doc);
      return { config, revision: doc.revision, name };
    } catch (err) {
      this.rejected = { revision: doc.revision, reason: reasonOf(err) };
      throw new ConfigRejected(doc.revision, name, reasonOf(err));
    }
  }

  settled(candidate: SourcedConfig, applied: boolean, reason?: string): void {
    const revision = candidate.revision ?? 0;
    if (!applied) {
      this.rejected = { revision, reason: reason ?? 'the new workers did not start listening' };
      this.docs.clear();
      return;
    }
    const doc = this.docs.get(revision);
    if (this.rejected !== null && (this.rejected.revision ?? 0) <= revision) this.rejected = null;
    this.bootedFromCache = null;
    if (doc !== undefined) {
      this.applied = doc;
      this.saveCache(doc);
    }
    this.docs.clear();
  }

  private saveCache(doc: Doc): void {
    try {
      writeConfigCache(this.opts.cachePath, { source: formatEtcdUrl(this.opts.location), key: this.key, revision: doc.revision, written: new Date().toISOString() }, doc.text);
    } catch (err) {
      this.logger?.warn({ cache: this.opts.cachePath, reason: reasonOf(err) }, 'cannot write the config cache');
    }
  }

  watch(changed: () => void, logger: Logger): void {
    this.changed = changed;
    this.logger = logger;
    if (this.bootedFromCache !== null) {
      logger.warn({ cache: this.opts.cachePath, revision: this.applied?.revision, reason: this.bootedFromCache.reason }, 'started from the config cache; will catch up when etcd answers');
    }
    if (this.rejected !== null) {
      logger.error({ revision: this.rejected.revision, reason: this.rejected.reason }, 'config revision refused; keeping the running configuration');
    }
    const resyncMs = this.opts.resyncMs ?? 5000;
    this.resync = setInterval(() => void this.catchUp(), resyncMs);
    this.resync.unref();
    void this.openWatch();
  }

  /** Reads the key and offers its value (after an outage, and periodically as a safety net). */
  private async catchUp(): Promise<void> {
    if (this.closed) return;
    try {
      const doc = await this.read();
      if (doc !== null) this.offer(doc);
    } catch {
      // still down: the watch reconnects by itself
    }
  }

  /** A revision newer than the serving one (and not already refused) asks the primary to reload. */
  private offer(doc: Doc): void {
    if (this.closed) return;
    if (doc.revision <= (this.applied?.revision ?? 0) || doc.revision === this.rejected?.revision) return;
    if (this.pending !== null && this.pending.revision >= doc.revision) return;
    this.pending = doc;
    this.changed();
  }

  /** Reads the key, then watches it from the next revision; on failure retries with backoff. */
  private async openWatch(): Promise<void> {
    if (this.closed) return;
    try {
      const res = await this.client.get(this.key).exec();
      this.markConnected();
      const kv = res.kvs[0];
      if (kv !== undefined) this.offer({ text: kv.value.toString('utf8'), revision: Number(kv.mod_revision) });
      const watcher = await this.client.watch().key(this.key).startRevision(String(Number(res.header.revision) + 1)).create();
      if (this.closed) {
        await watcher.cancel();
        return;
      }
      this.watcher = watcher;
      this.retryMs = RETRY_MIN_MS;
      watcher.on('put', (kv: IKeyValue) => this.offer({ text: kv.value.toString('utf8'), revision: Number(kv.mod_revision) }));
      watcher.on('delete', () => this.logger?.warn({ key: this.key }, 'the config key was deleted in etcd; keeping the running configuration'));
      watcher.on('disconnected', (err: unknown) => this.markDisconnected(err));
      watcher.on('connected', () => {
        // why: the client resumes the watch from its last revision; a read also
        // covers a revision it could not replay.
        if (this.markConnected()) void this.catchUp();
      });
      watcher.on('error', (err: unknown) => {
        // e.g. the resume revision was compacted: the watch is cancelled; start over from a read.
        this.logger?.warn({ reason: reasonOf(err) }, 'the etcd watch ended; re-establishing it');
        this.watcher = null;
        void watcher.cancel().catch(() => {});
        this.retryLater();
      });
    } catch (err) {
      this.markDisconnected(err);
      this.retryLater();
    }
  }

  private retryLater(): void {
    if (this.closed || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      void this.openWatch();
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }

  /** Returns true when this ends an outage. */
  private markConnected(): boolean {
    if (this.connected) return false;
    this.connected = true;
    this.logger?.info({ etcd: this.opts.location.endpoints }, 'connected to etcd');
    return true;
  }

  private markDisconnected(err: unknown): void {
    if (!this.connected) return;
    this.connected = false;
    this.logger?.warn({ etcd: this.opts.location.endpoints, reason: reasonOf(err) }, 'lost etcd; serving the last good config and reconnecting');
  }

  details(): ConfigSourceDetails {
    return {
      source: 'etcd',
      path: this.url,
      revision: this.applied?.revision ?? null,
      rejectedRevision: this.rejected?.revision ?? null,
      rejectedReason: this.rejected?.reason ?? null,
      connected: this.connected,
      cache: this.opts.cachePath,
      fromCache: this.bootedFromCache !== null,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.resync !== null) clearInterval(this.resync);
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    const w = this.watcher;
    this.watcher = null;
    // why: not awaited: with etcd unreachable the cancel would hold up shutdown.
    if (w !== null) void w.cancel().catch(() => {});
    this.client.close();
  }
}
