/**
 * Where the etcd config source keeps its document (the client is the shared
 * one of src/lib/etcd-client.ts).
 * @module
 */

/** The key holding the whole config document under `prefix`. */
export function configKey(prefix: string): string {
  return `${prefix}/config`;
}
