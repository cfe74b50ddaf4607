import { Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DnsDiscoveryConfig, TargetConfig } from '../../config/types.js';
import type { Logger } from '../../observability/logger.js';
import { setSignature, type TargetSetListener, type TargetSource } from './target-source.js';

/** Answers that mean "this name has no such records" (NXDOMAIN, or no data): the set becomes empty. */
const EMPTY_ANSWER = new Set(['ENOTFOUND', 'ENODATA']);

/** One resolution per lookup attempt: the interval re-resolves anyway. */
const RESOLVER_TIMEOUT_MS = 2000;

/**
 * Targets from DNS, re-resolved every `intervalMs`: A and/or AAAA records of
 * the name (each address with the configured port, weight 1), or SRV
 * records (each record's target resolved to its addresses, with the
 * record's port and weight; priority is not used). A failed lookup (timeout,
 * SERVFAIL, refused) keeps the last good set and is logged once per change
 * of state; an answer saying the name has no records (NXDOMAIN / no data)
 * empties the set.
 */
export class DnsTargetSource implements TargetSource {
  readonly firstAnswer: Promise<void>;
  private readonly config: DnsDiscoveryConfig;
  private readonly resolver: Resolver;
  private readonly logger: Logger | null;
  private readonly listener: TargetSetListener;
  private signature: string | null = null;
  private failing = false;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;

  /** Resolves once at once, then every `config.intervalMs`. */
  constructor(config: DnsDiscoveryConfig, listener: TargetSetListener, logger: Logger | null) {
    this.config = config;
    this.listener = listener;
    this.logger = logger;
    this.resolver = new Resolver({ timeout: RESOLVER_TIMEOUT_MS, tries: 1 });
    if (config.servers.length > 0) this.resolver.setServers(config.servers);
    this.firstAnswer = this.tick();
  }

  /** One resolution, then the next is scheduled. */
  private async tick(): Promise<void> {
    this.timer = null;
    let targets: TargetConfig[] | null = null;
    try {
      targets = await this.resolve();
      if (this.failing) {
        this.failing = false;
        this.logger?.info({ name: this.config.name, targets: targets.length }, 'dns discovery: resolving again');
      }
    } catch (err) {
      if (!this.failing && !this.closed) {
        this.failing = true;
        this.logger?.warn({ name: this.config.name, err: (err as Error).message }, 'dns discovery: lookup failed, keeping the last known targets');
      }
    }
    if (this.closed) return;
    if (targets !== null) this.publish(targets);
    this.timer = setTimeout(() => void this.tick(), this.config.intervalMs);
    this.timer.unref();
  }

  /** The current targets by the configured record type; throws on a failed lookup. */
  private async resolve(): Promise<TargetConfig[]> {
    const c = this.config;
    if (c.type === 'srv') {
      const records = await emptyOnNoRecords(this.resolver.resolveSrv(c.name));
      const out: TargetConfig[] = [];
      for (const r of records) {
        const addresses = isIP(r.name) !== 0 ? [r.name] : await this.addresses(r.name, 'auto');
        for (const a of addresses) out.push({ url: origin(c.scheme, a, r.port), weight: Math.max(1, r.weight) });
      }
      return out;
    }
    const addresses = await this.addresses(c.name, c.type);
    return addresses.map((a) => ({ url: origin(c.scheme, a, c.port ?? 80), weight: 1 }));
  }

  /** A and/or AAAA addresses of `name` (none when it has no such records). */
  private async addresses(name: string, type: 'a' | 'aaaa' | 'auto'): Promise<string[]> {
    const [v4, v6] = await Promise.all([
      type === 'aaaa' ? [] : emptyOnNoRecords(this.resolver.resolve4(name)),
      type === 'a' ? [] : emptyOnNoRecords(this.resolver.resolve6(name)),
    ]);
    return [...v4, ...v6];
  }

  private publish(targets: TargetConfig[]): void {
    const signature = setSignature(targets);
    if (signature === this.signature) return;
    this.signature = signature;
    this.listener(targets);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.resolver.cancel();
  }
}

/** The records, or none when the answer says the name has none; other failures propagate. */
async function emptyOnNoRecords<T>(lookup: Promise<T[]>): Promise<T[]> {
  try {
    return await lookup;
  } catch (err) {
    if (EMPTY_ANSWER.has((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
}

/** `scheme://address:port` (IPv6 in brackets). */
function origin(scheme: string, address: string, port: number): string {
  return `${scheme}://${isIP(address) === 6 ? `[${address}]` : address}:${port}`;
}
