/**
 * The top-level `consumers` section: the checks the schema cannot express
 * (unique ids, one readable source per key, unique keys and key names) and
 * its normalisation into {@link ConsumerConfig}s that hold key hashes only.
 */
import { displayPath, type ConfigPath } from '../../config/issues.js';
import type { ConsumerConfig, ConsumerKeyConfig } from '../../config/types.js';
import { OTHER_CONSUMER } from '../../observability/consumer-metrics.js';
import type { IssueSink } from '../types.js';
import { keySha256, sourcesOf } from './consumer-keys.js';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The name of `keys[index]`: as configured, or `key-<index>`. */
export function keyName(entry: Obj, index: number): string {
  return typeof entry.name === 'string' ? entry.name : 'key-' + index;
}

/**
 * Checks `consumers`: ids unique (and not the reserved metrics label), each
 * key with exactly one source that can be read (env set, file readable, a
 * key a client can send), no key twice (in one consumer or across two: a
 * key names one consumer), key names unique per consumer. Messages name
 * paths, never a key.
 *
 * @param env where `env:` keys are read (the environment given to the loader).
 */
export function checkConsumers(list: unknown, issue: IssueSink, env: NodeJS.ProcessEnv): void {
  if (!Array.isArray(list)) return;
  const ids = new Map<string, number>();
  const hashes = new Map<string, ConfigPath>();
  list.forEach((consumer: unknown, i: number) => {
    if (!isObj(consumer)) return;
    const at: ConfigPath = ['consumers', i];
    if (typeof consumer.id === 'string') {
      const first = ids.get(consumer.id);
      if (first !== undefined) issue([...at, 'id'], `duplicate consumer id "${consumer.id}" (also ${displayPath(['consumers', first])})`);
      else ids.set(consumer.id, i);
      if (consumer.id === OTHER_CONSUMER) issue([...at, 'id'], `"${OTHER_CONSUMER}" is reserved (the metrics label of consumers over the cap)`);
    }
    if (!Array.isArray(consumer.keys)) return;
    const names = new Map<string, number>();
    consumer.keys.forEach((entry: unknown, j: number) => {
      if (!isObj(entry)) return;
      const kat: ConfigPath = [...at, 'keys', j];
      const name = keyName(entry, j);
      const sameName = names.get(name);
      if (sameName !== undefined) issue(typeof entry.name === 'string' ? [...kat, 'name'] : kat, `duplicate key name "${name}" (also ${displayPath([...at, 'keys', sameName])})`);
      else names.set(name, j);
      const sources = sourcesOf(entry);
      if (sources.length === 0) { issue(kat, 'needs one key source: sha256, env or file'); return; }
      if (sources.length > 1) { issue([...kat, sources[1]], `give one key source, not ${sources.join(' and ')}`); return; }
      const read = keySha256(entry, sources[0], env);
      if (read === null) return; // the schema reported the value
      if ('problem' in read) { issue([...kat, sources[0]], read.problem); return; }
      const first = hashes.get(read.hex);
      if (first !== undefined) issue(kat, `the same key as ${displayPath(first)} (a key must name one consumer)`);
      else hashes.set(read.hex, kat);
    });
  });
}

/**
 * The normalised consumers of a schema- and check-valid `consumers` list:
 * username '' and no groups or keys when absent; every key as its SHA-256.
 * `env:` and `file:` keys are read here (at load and on each reload).
 */
export function normaliseConsumers(list: unknown, env: NodeJS.ProcessEnv): ConsumerConfig[] {
  if (!Array.isArray(list)) return [];
  return (list as Obj[]).map((c) => ({
    id: c.id as string,
    username: typeof c.username === 'string' ? c.username : '',
    groups: [...((c.groups ?? []) as string[])],
    keys: ((c.keys ?? []) as Obj[]).map((entry, j): ConsumerKeyConfig => {
      const source = sourcesOf(entry)[0];
      const read = keySha256(entry, source, env);
      // why: the check read the same sources a moment ago; a file removed in between fails loudly.
      if (read === null || 'problem' in read) throw new Error(`consumers ${String(c.id)} key ${keyName(entry, j)}: ${read === null ? 'invalid' : read.problem}`);
      return { name: keyName(entry, j), sha256: read.hex, source };
    }),
  }));
}
