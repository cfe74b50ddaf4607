import type { Etcd3 } from 'etcd3';
import type { GatewayConfig, TargetConfig } from '../../config/types.js';
import { createEtcdClient } from '../../lib/etcd-client.js';
import type { Logger } from '../../observability/logger.js';
import type { TargetConnection } from '../target.js';
import type { UpstreamGroup } from '../upstream-group.js';
import { DnsTargetSource } from './dns-source.js';
import { EtcdTargetSource } from './etcd-source.js';
import type { TargetSource } from './target-source.js';

/** Told about every change of a discovered upstream's targets (logs, metrics). */
export type TargetsChangedListener = (upstream: string, added: readonly string[], removed: readonly string[], total: number) => void;

/**
 * The service discovery of one worker: one source per etcd prefix (one etcd
 * client per cluster) or DNS name, each feeding its upstream groups'
 * `setTargets`. Per worker process: every worker runs its own watchers.
 */
export class UpstreamDiscovery {
  private readonly sources: TargetSource[] = [];
  private readonly clients: Etcd3[] = [];
  private closing: Promise<void> | null = null;

  private constructor() {}

  /**
   * Starts discovery for the groups whose upstream has `discovery`.
   * @returns null when no upstream uses discovery (nothing runs)
   */
  static start(
    config: GatewayConfig, groups: Iterable<UpstreamGroup<TargetConnection>>, logger: Logger | null, onChange?: TargetsChangedListener,
  ): UpstreamDiscovery | null {
    const byName = new Map<string, UpstreamGroup<TargetConnection>>();
    for (const g of groups) byName.set(g.name, g);
    let discovery: UpstreamDiscovery | null = null;
    const clients = new Map<string, Etcd3>();
    const etcdSources = new Map<string, EtcdTargetSource>();
    for (const [name, upstream] of Object.entries(config.upstreams)) {
      const d = upstream.discovery;
      const group = byName.get(name);
      if (d === null || d === undefined || group === undefined) continue;
      discovery ??= new UpstreamDiscovery();
      const apply = (targets: TargetConfig[]): void => {
        const { added, removed } = group.setTargets(targets);
        if (added.length + removed.length > 0) {
          logger?.info({ upstream: name, added, removed, targets: group.targets.length }, 'discovery: targets changed');
          onChange?.(name, added, removed, group.targets.length);
        }
      };
      if (d.dns !== null) {
        discovery.sources.push(new DnsTargetSource(d.dns, apply, logger));
        continue;
      }
      const etcd = d.etcd!;
      const clusterKey = etcd.endpoints.join(',');
      let client = clients.get(clusterKey);
      if (client === undefined) {
        client = createEtcdClient(etcd.endpoints);
        clients.set(clusterKey, client);
        discovery.clients.push(client);
      }
      // One watcher per prefix and cluster, shared by the upstreams that name it.
      const sourceKey = clusterKey + '|' + etcd.prefix;
      let source = etcdSources.get(sourceKey);
      if (source === undefined) {
        source = new EtcdTargetSource(client, etcd.prefix, logger);
        etcdSources.set(sourceKey, source);
        discovery.sources.push(source);
      }
      source.subscribe(apply);
    }
    return discovery;
  }

  /** Waits until every source answered once (its first set, or a failure), at most `timeoutMs`. */
  async ready(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => { timer = setTimeout(resolve, timeoutMs); });
    await Promise.race([Promise.all(this.sources.map((s) => s.firstAnswer)), deadline]);
    clearTimeout(timer);
  }

  /** Stops every watcher and poller and closes the etcd clients (so the worker can exit). Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all(this.sources.map((s) => s.close()));
      for (const c of this.clients) c.close();
    })();
    return this.closing;
  }
}
