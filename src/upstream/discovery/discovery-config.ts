import { isIP } from 'node:net';
import type { DiscoveryConfig, DnsDiscoveryConfig } from '../../config/types.js';
import type { ConfigPath } from '../../config/issues.js';
import { parseDuration, tryParseDuration } from '../../config/units.js';
import { clusterEndpointsFromEnv } from '../../lib/etcd-endpoints.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Issue = (path: ConfigPath, message: string) => void;

/** Default and smallest DNS re-resolution interval. */
const DNS_INTERVAL_MS = 10_000;
const DNS_MIN_INTERVAL_MS = 1000;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** DNS record type: the configured one, else SRV for `_service._proto` names, else A and AAAA. */
function dnsType(d: Obj): DnsDiscoveryConfig['type'] {
  if (typeof d.type === 'string') return d.type as DnsDiscoveryConfig['type'];
  return typeof d.name === 'string' && d.name.startsWith('_') ? 'srv' : 'auto';
}

/** DNS servers: the configured ones, else env TURNPIKE_DNS_SERVERS (comma-separated), else none (system resolvers). */
function dnsServers(d: Obj, env: NodeJS.ProcessEnv): string[] {
  if (Array.isArray(d.servers)) return d.servers.map(String);
  const e = env.TURNPIKE_DNS_SERVERS;
  return e === undefined ? [] : e.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

/** Whether `text` is `host`, `host:port` or `[v6]:port` with an IP host (what Resolver.setServers takes). */
function isServer(text: string): boolean {
  const m = /^\[([^\]]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([^:]+)(?::(\d{1,5}))?$/.exec(text);
  if (m === null) return isIP(text) === 6;
  return isIP(m[1]) !== 0 && (m[2] === undefined || (Number(m[2]) >= 1 && Number(m[2]) <= 65535));
}

/**
 * An upstream's `discovery` block with defaults and the environment applied
 * (etcd endpoints, DNS servers); null without one. Call after validation.
 */
export function normaliseDiscovery(raw: unknown, env: NodeJS.ProcessEnv): DiscoveryConfig | null {
  if (!isObj(raw)) return null;
  if (isObj(raw.etcd)) {
    const endpoints = Array.isArray(raw.etcd.endpoints) ? raw.etcd.endpoints.map(String) : clusterEndpointsFromEnv(env) ?? [];
    return { etcd: { prefix: String(raw.etcd.prefix), endpoints }, dns: null };
  }
  const d: Obj = raw.dns;
  const type = dnsType(d);
  return {
    etcd: null,
    dns: {
      name: String(d.name),
      type,
      port: typeof d.port === 'number' ? d.port : null,
      intervalMs: d.interval === undefined ? DNS_INTERVAL_MS : parseDuration(d.interval),
      scheme: d.scheme ?? 'http',
      servers: dnsServers(d, env),
    },
  };
}

/**
 * What the schema cannot check of an upstream's targets/discovery: one of
 * the two is required, not both; etcd endpoints must be known (config or
 * environment); A/AAAA need a port; the interval is at least 1s; DNS
 * servers are IP[:port].
 * @param up the upstream's raw config
 * @param at its path (`['upstreams', name]`)
 */
export function checkDiscovery(up: Obj, at: ConfigPath, issue: Issue, env: NodeJS.ProcessEnv): void {
  const raw = up.discovery;
  if (raw === undefined) {
    if (up.targets === undefined) issue([...at, 'targets'], 'is required (or discovery: { etcd: ... } or { dns: ... } to find the targets at run time)');
    return;
  }
  const dat: ConfigPath = [...at, 'discovery'];
  if (up.targets !== undefined) issue(dat, 'cannot be combined with targets: give targets or discovery, not both');
  if (!isObj(raw)) return;
  if (isObj(raw.etcd) && !Array.isArray(raw.etcd.endpoints)) {
    try {
      if (clusterEndpointsFromEnv(env) === null) {
        issue([...dat, 'etcd'], 'no etcd endpoints are known: set discovery.etcd.endpoints, env TURNPIKE_ETCD_ENDPOINTS, or TURNPIKE_CONFIG_SOURCE=etcd://host:port/prefix');
      }
    } catch (err) {
      issue([...dat, 'etcd'], (err as Error).message);
    }
  }
  const d = raw.dns;
  if (!isObj(d)) return;
  const type = dnsType(d);
  if (type !== 'srv' && d.port === undefined) issue([...dat, 'dns', 'port'], `is required for ${type === 'auto' ? 'A/AAAA' : type.toUpperCase()} records (SRV records carry their own port)`);
  const ms = d.interval === undefined ? null : tryParseDuration(d.interval);
  if (ms !== null && ms < DNS_MIN_INTERVAL_MS) issue([...dat, 'dns', 'interval'], 'must be at least 1s');
  const servers = dnsServers(d, env);
  servers.forEach((s, i) => {
    if (isServer(s)) return;
    if (Array.isArray(d.servers)) issue([...dat, 'dns', 'servers', i], 'must be an IP address with an optional port, like 127.0.0.1:5353');
    else issue([...dat, 'dns'], `TURNPIKE_DNS_SERVERS: "${s}" is not an IP address with an optional port`);
  });
}
