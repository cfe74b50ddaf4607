import type { Etcd3, IKeyValue, Watcher } from 'etcd3';
import type { Logger } from '../../observability/logger.js';
import type { TargetConfig } from '../../config/types.js';
import { parseTargetValue, setSignature, type TargetSetListener, type TargetSource } from './target-source.js';

/** Resync retry delays after a failed read of the prefix: doubling from the first to the last. */
const RETRY_FIRST_MS = 250;
const RETRY_MAX_MS = 5000;

/**
 * The targets under one etcd prefix: an initial read of every key, then a
 * watch from the revision after it. Keys hold `{"url": ..., "weight": n}`
 * (services write them with a lease, so a crashed service's key expires);
 * a value that is not such JSON is skipped with a warning naming the key.
 *
 * When the connection to etcd breaks, the watcher (etcd3's) reconnects and
 * replays what it missed; on reconnect the source also reads the whole
 * prefix again and replaces its set (events older than that read are
 * ignored), so it converges even when the watch could not resume (e.g. the
 * revision was compacted: the watcher is then recreated). While etcd is
 * unreachable the last known set stays.
 */
export class EtcdTargetSource implements TargetSource {
  readonly firstAnswer: Promise<void>;
  private readonly client: Etcd3;
  private readonly prefix: string;
  private readonly logger: Logger | null;
  private readonly listeners: TargetSetListener[] = [];
  /** key → its target (valid values only). */
  private readonly entries = new Map<string, TargetConfig>();
  private watcher: Watcher | null = null;
  /** Revision of the latest full read: watch events at or below it are already in `entries`. */
  private readRevision = 0;
  private signature: string | null = null;
  private closed = false;
  private down = false;
  private retryMs = RETRY_FIRST_MS;
  private retryTimer: NodeJS.Timeout | null = null;
  private resyncing = false;
  /** Watch events that arrived during a full read: replayed after it when newer than its revision. */
  private pending: Array<{ kv: IKeyValue; deleted: boolean }> = [];
  private answered: () => void = () => undefined;

  /**
   * Starts reading at once.
   * @param client the etcd client (shared by the sources of one cluster; the caller closes it)
   */
  constructor(client: Etcd3, prefix: string, logger: Logger | null) {
    this.client = client;
    this.prefix = prefix;
    this.logger = logger;
    this.firstAnswer = new Promise((resolve) => { this.answered = resolve; });
    void this.resync();
  }

  /** Adds a listener; it gets the current set at once when there is one. */
  subscribe(listener: TargetSetListener): void {
    this.listeners.push(listener);
    if (this.signature !== null) listener(this.current());
  }

  /** Reads the whole prefix, replaces the set, and makes sure a watcher runs. Retries with backoff on failure. */
  private async resync(): Promise<void> {
    if (this.closed || this.resyncing) return;
    this.resyncing = true;
    try {
      const res = await this.client.getAll().prefix(this.prefix).exec();
      if (this.closed) return;
      this.readRevision = Number(res.header.revision);
      this.entries.clear();
      for (const kv of res.kvs) this.apply(kv, true);
      // why: an event newer than the read may have arrived before the read's answer; the read must not undo it.
      for (const e of this.pending.splice(0)) this.event(e.kv, e.deleted);
      this.publish();
      if (this.watcher === null) await this.watch(this.readRevision + 1);
      this.retryMs = RETRY_FIRST_MS;
      this.setDown(false, null);
    } catch (err) {
      if (this.closed) return;
      this.setDown(true, err);
      this.retryTimer = setTimeout(() => { this.retryTimer = null; void this.resync(); }, this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    } finally {
      this.resyncing = false;
      this.pending.length = 0;
      this.answered();
    }
  }

  /** Starts the watcher at `revision`. */
  private async watch(revision: number): Promise<void> {
    const watcher = await this.client.watch().prefix(this.prefix).startRevision(String(revision)).create();
    if (this.closed) { await watcher.cancel().catch(() => undefined); return; }
    this.watcher = watcher;
    watcher.on('put', (kv) => this.onEvent(kv, false));
    watcher.on('delete', (kv) => this.onEvent(kv, true));
    watcher.on('disconnected', (err) => this.setDown(true, err));
    // why: a reconnected watcher replays from its last revision, but a full read also repairs what it cannot replay.
    watcher.on('connected', () => { if (this.down) void this.resync(); });
    watcher.on('error', (err) => {
      // Unrecoverable for this watcher (e.g. its revision was compacted): start over with a new read and watcher.
      this.logger?.warn({ prefix: this.prefix, err: err.message }, 'etcd discovery: watch failed, reading the prefix again');
      if (this.watcher === watcher) this.watcher = null;
      void watcher.cancel().catch(() => undefined);
      this.down = true;
      void this.resync();
    });
  }

  /** A watch event: applied now, or after the full read in progress. */
  private onEvent(kv: IKeyValue, deleted: boolean): void {
    if (this.resyncing) { this.pending.push({ kv, deleted }); return; }
    this.event(kv, deleted);
    this.publish();
  }

  /** Applies a put or delete newer than the latest full read (older ones are in it already). */
  private event(kv: IKeyValue, deleted: boolean): void {
    if (Number(kv.mod_revision) <= this.readRevision) return;
    if (deleted) this.entries.delete(kv.key.toString());
    else this.apply(kv, false);
  }

  /** Takes one key's value into the set (an invalid value removes the key and is logged). */
  private apply(kv: IKeyValue, initial: boolean): void {
    const key = kv.key.toString();
    const parsed = parseTargetValue(kv.value.toString());
    if (typeof parsed === 'string') {
      this.entries.delete(key);
      this.logger?.warn({ prefix: this.prefix, key, reason: parsed, initial }, 'etcd discovery: skipping a key whose value is not {"url": ..., "weight": n}');
      return;
    }
    this.entries.set(key, parsed);
  }

  /** The current set in key order. */
  private current(): TargetConfig[] {
    return [...this.entries.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map((e) => e[1]);
  }

  /** Tells the listeners when the set changed. */
  private publish(): void {
    const targets = this.current();
    const signature = setSignature(targets);
    if (signature === this.signature) return;
    this.signature = signature;
    for (const l of this.listeners) l(targets);
  }

  /** Logs a change between reachable and unreachable, once per change. */
  private setDown(down: boolean, err: unknown): void {
    if (down === this.down) return;
    this.down = down;
    if (down) {
      this.logger?.warn({ prefix: this.prefix, err: err instanceof Error ? err.message : String(err), targets: this.entries.size },
        'etcd discovery: etcd unreachable, keeping the last known targets');
    } else this.logger?.info({ prefix: this.prefix, targets: this.entries.size }, 'etcd discovery: connected');
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.answered();
    const w = this.watcher;
    this.watcher = null;
    if (w !== null) await w.cancel().catch(() => undefined);
  }
}
