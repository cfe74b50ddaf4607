/**
 * Where an etcd cluster is: shared by the etcd config source and anything
 * else that talks to the same cluster (service discovery).
 * @module
 */

/** An etcd source URL, taken apart. */
export interface EtcdLocation {
  /** Client URLs, e.g. `['http://127.0.0.1:2379']`. */
  endpoints: string[];
  /** Key prefix, always starting with `/` and without a trailing `/` (`''` for the root). */
  prefix: string;
}

/** Default client URL when neither a flag nor TURNPIKE_ETCD_ENDPOINTS names one. */
export const DEFAULT_ETCD_ENDPOINT = 'http://127.0.0.1:2379';

/** Thrown for a malformed `etcd://` URL or endpoint list; the message says what is wrong. */
export class EtcdLocationError extends Error {
  override readonly name = 'EtcdLocationError';
}

/**
 * Parses `etcd://host:port[,host:port...]/prefix` (the TURNPIKE_CONFIG_SOURCE
 * form): every member becomes `http://host:port`; the prefix loses any
 * trailing `/`. `etcds://` gives `https://` endpoints.
 *
 * @throws EtcdLocationError when the URL is not of that form.
 */
export function parseEtcdUrl(url: string): EtcdLocation {
  const m = /^(etcds?):\/\/([^/]+)(\/.*)?$/.exec(url.trim());
  if (m === null) throw new EtcdLocationError(`"${url}" is not an etcd URL (expected etcd://host:port[,host:port]/prefix)`);
  const scheme = m[1] === 'etcds' ? 'https' : 'http';
  const endpoints = m[2].split(',').map((hostPort) => {
    const hp = hostPort.trim();
    if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(hp)) throw new EtcdLocationError(`"${hp}" in "${url}" is not host:port`);
    return `${scheme}://${hp}`;
  });
  return { endpoints, prefix: normalisePrefix(m[3] ?? '') };
}

/**
 * Parses a comma-separated list of client URLs (TURNPIKE_ETCD_ENDPOINTS,
 * `--etcd`): `http://h:p` or `https://h:p`; a bare `host:port` means http.
 *
 * @throws EtcdLocationError for an empty list or a malformed member.
 */
export function parseEtcdEndpoints(list: string): string[] {
  const out = list.split(',').map((s) => s.trim()).filter((s) => s !== '').map((s) => {
    const withScheme = /^[a-z]+:\/\//i.test(s) ? s : `http://${s}`;
    let u: URL;
    try {
      u = new URL(withScheme);
    } catch {
      throw new EtcdLocationError(`"${s}" is not an etcd client URL (expected http://host:port)`);
    }
    if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.port === '' || (u.pathname !== '/' && u.pathname !== '')) {
      throw new EtcdLocationError(`"${s}" is not an etcd client URL (expected http://host:port)`);
    }
    return `${u.protocol}//${u.host}`;
  });
  if (out.length === 0) throw new EtcdLocationError('the etcd endpoint list is empty');
  return out;
}

/**
 * The endpoints from TURNPIKE_ETCD_ENDPOINTS, or `null` when it is unset or
 * empty.
 *
 * @throws EtcdLocationError when it is set but malformed.
 */
export function etcdEndpointsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const v = env.TURNPIKE_ETCD_ENDPOINTS;
  return v === undefined || v.trim() === '' ? null : parseEtcdEndpoints(v);
}

/**
 * The etcd cluster other parts of the gateway use when they name none
 * (service discovery): TURNPIKE_ETCD_ENDPOINTS, else the members of the
 * config source (TURNPIKE_CONFIG_SOURCE=etcd://…), else null.
 *
 * @throws EtcdLocationError when the variable used is malformed (its name in the message).
 */
export function clusterEndpointsFromEnv(env: NodeJS.ProcessEnv = process.env): string[] | null {
  try {
    const listed = etcdEndpointsFromEnv(env);
    if (listed !== null) return listed;
  } catch (err) {
    throw new EtcdLocationError(`TURNPIKE_ETCD_ENDPOINTS: ${(err as Error).message}`);
  }
  const source = env.TURNPIKE_CONFIG_SOURCE;
  if (source === undefined || !/^etcds?:\/\//i.test(source.trim())) return null;
  try {
    return parseEtcdUrl(source).endpoints;
  } catch (err) {
    throw new EtcdLocationError(`TURNPIKE_CONFIG_SOURCE: ${(err as Error).message}`);
  }
}

/** `/a/b/` and `a/b` → `/a/b`; `/` → `''`. */
export function normalisePrefix(prefix: string): string {
  const trimmed = prefix.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/** The `etcd://host:port,.../prefix` form of a location (for messages and cache files). */
export function formatEtcdUrl(location: EtcdLocation): string {
  const secure = location.endpoints.every((e) => e.startsWith('https://'));
  const hosts = location.endpoints.map((e) => e.replace(/^https?:\/\//, '')).join(',');
  return `${secure ? 'etcds' : 'etcd'}://${hosts}${location.prefix}`;
}
