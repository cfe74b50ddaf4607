import type { GatewayConfig } from '../config/types.js';
import { EtcdLocationError, parseEtcdUrl } from '../lib/etcd-endpoints.js';
import { configCachePath } from './config-cache.js';
import { ConfigSourceError, type ConfigSource } from './config-source.js';
import { etcdConfigSource } from './etcd-config-source.js';

/** Env variable choosing the config source: `file` (default) or `etcd://host:port[,host:port]/prefix`. */
export const CONFIG_SOURCE_VAR = 'TURNPIKE_CONFIG_SOURCE';

/**
 * The config source TURNPIKE_CONFIG_SOURCE names: `null` for the file
 * (unset, empty or `file`), an etcd source for an `etcd://` URL.
 *
 * @param parse validates YAML text as a file is (parseConfig with the env).
 * @throws ConfigSourceError for any other value.
 */
export function configSourceFromEnv(env: NodeJS.ProcessEnv, parse: (text: string, name: string) => GatewayConfig): ConfigSource | null {
  const value = (env[CONFIG_SOURCE_VAR] ?? '').trim();
  if (value === '' || value === 'file') return null;
  try {
    return etcdConfigSource({ location: parseEtcdUrl(value), parse, cachePath: configCachePath(env) });
  } catch (err) {
    if (err instanceof EtcdLocationError) throw new ConfigSourceError(`${CONFIG_SOURCE_VAR}: ${err.message} (or "file")`);
    throw err;
  }
}
