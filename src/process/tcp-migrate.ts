import { readFileSync, writeFileSync } from 'node:fs';

/** Where Linux (>= 5.14) exposes the SO_REUSEPORT request-migration switch. */
export const TCP_MIGRATE_REQ_PATH = '/proc/sys/net/ipv4/tcp_migrate_req';

/** Outcome of {@link enableTcpMigrateReq}. */
export interface TcpMigrateStatus {
  /** Whether migration is on after the attempt. */
  enabled: boolean;
  /** Whether this call switched it on. */
  changed: boolean;
  /** Why it is off (missing on this kernel, read-only /proc/sys, not root, ...). */
  reason?: string;
}

/**
 * Tries to turn on `net.ipv4.tcp_migrate_req`.
 *
 * Caveat it addresses: when one of several SO_REUSEPORT listeners closes
 * (the old generation draining on reload), Linux resets the connections still
 * waiting in *that* socket's accept queue. With the sysctl on, the kernel
 * migrates them to another listener of the same port instead. Without it, a
 * reload under heavy load may reset a few not-yet-accepted connections.
 * The setting is per network namespace and needs root (or CAP_NET_ADMIN).
 */
export function enableTcpMigrateReq(path: string = TCP_MIGRATE_REQ_PATH): TcpMigrateStatus {
  let current: string;
  try {
    current = readFileSync(path, 'utf8').trim();
  } catch (err) {
    return { enabled: false, changed: false, reason: `cannot read ${path}: ${(err as Error).message}` };
  }
  if (current === '1') return { enabled: true, changed: false };
  try {
    writeFileSync(path, '1\n');
  } catch (err) {
    return { enabled: false, changed: false, reason: `cannot write ${path}: ${(err as Error).message}` };
  }
  try {
    const after = readFileSync(path, 'utf8').trim();
    return after === '1' ? { enabled: true, changed: true } : { enabled: false, changed: false, reason: `${path} reads ${after} after writing 1` };
  } catch (err) {
    return { enabled: false, changed: false, reason: `cannot re-read ${path}: ${(err as Error).message}` };
  }
}
