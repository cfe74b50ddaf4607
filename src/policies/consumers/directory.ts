/**
 * The read-only directory of configured consumers, built once per worker
 * (per config) and shared by the identity policies: key-auth looks keys up
 * by digest; other identity policies (jwt, introspection) may map a
 * verified subject to a configured consumer with {@link ConsumerDirectory.byId}.
 */
import type { ConsumerConfig, GatewayConfig } from '../../config/types.js';
import type { Consumer } from '../consumer.js';
import { digestOfHex } from './consumer-keys.js';

/** A configured consumer as the directory shows it (no key material). */
export interface ConsumerRecord {
  readonly id: string;
  /** '' when not configured. */
  readonly username: string;
  readonly groups: readonly string[];
  /** Names of its API keys, in config order. */
  readonly keyNames: readonly string[];
}

/** Credential kind of consumers identified by an API key. */
export const API_KEY_CREDENTIAL = 'api-key';

/**
 * A {@link Consumer} for a configured consumer, identified by `credential`
 * (frozen: policies share it between requests).
 */
export function consumerOf(record: ConsumerRecord, credential: { kind: string; id: string },
  claims: Readonly<Record<string, unknown>> | null = null, anonymous = false): Consumer {
  const c: Consumer = {
    id: record.id, username: record.username, groups: record.groups,
    credential: Object.freeze({ kind: credential.kind, id: credential.id }), claims,
    ...(anonymous ? { anonymous: true } : {}),
  };
  return Object.freeze(c);
}

/** Lookups over the configured consumers. */
export class ConsumerDirectory {
  /** Every configured id, in config order. */
  readonly ids: readonly string[];
  private readonly records = new Map<string, ConsumerRecord>();
  /** Key digest (keyDigest) → the consumer that key identifies, prebuilt. */
  private readonly keys = new Map<string, Consumer>();

  constructor(consumers: readonly ConsumerConfig[]) {
    for (const c of consumers) {
      const record: ConsumerRecord = Object.freeze({
        id: c.id, username: c.username, groups: Object.freeze([...c.groups]), keyNames: Object.freeze(c.keys.map((k) => k.name)),
      });
      this.records.set(c.id, record);
      // why: one frozen Consumer per key, built here, so a request that
      // presents a key allocates nothing to become that consumer.
      for (const k of c.keys) this.keys.set(digestOfHex(k.sha256), consumerOf(record, { kind: API_KEY_CREDENTIAL, id: k.name }));
    }
    this.ids = Object.freeze(consumers.map((c) => c.id));
  }

  /** The configured consumer with this id. */
  byId(id: string): ConsumerRecord | undefined {
    return this.records.get(id);
  }

  /** The consumer a key identifies, by the key's {@link keyDigest}; undefined for an unknown key. */
  byKeyDigest(digest: string): Consumer | undefined {
    return this.keys.get(digest);
  }

  /** Number of configured consumers. */
  get size(): number {
    return this.records.size;
  }
}

const built = new WeakMap<GatewayConfig, ConsumerDirectory>();

/** The directory of `config.consumers` (built on first use, then shared by every policy of that config). */
export function consumerDirectory(config: GatewayConfig): ConsumerDirectory {
  let d = built.get(config);
  if (d === undefined) {
    d = new ConsumerDirectory(config.consumers ?? []);
    built.set(config, d);
  }
  return d;
}

/**
 * `GET /consumers` on the admin listener: ids, usernames, groups and key
 * names and sources. Never a key or a key's hash.
 */
export function consumersListing(config: GatewayConfig): { consumers: unknown[] } {
  return {
    consumers: (config.consumers ?? []).map((c) => ({
      id: c.id, username: c.username, groups: [...c.groups], keys: c.keys.map((k) => ({ name: k.name, source: k.source })),
    })),
  };
}
