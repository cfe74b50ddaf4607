/**
 * An etcd3 client tuned for a gateway (the config source, service
 * discovery): unary calls fail within a few seconds when etcd is down
 * (instead of waiting for it), and the gRPC channel and the watch stream
 * retry quickly once it is back.
 * @module
 */
import { Etcd3, type IOptions } from 'etcd3';

/** Unary call deadline (get, put, txn). */
export const ETCD_CALL_TIMEOUT_MS = 3000;

/** A backoff of cockatiel's `IBackoff` shape: doubling from `ms` up to `maxMs`. */
interface Backoff { readonly duration: number; next(): Backoff }

function doubling(ms: number, maxMs: number): Backoff {
  return { duration: ms, next: () => doubling(Math.min(ms * 2, maxMs), maxMs) };
}

/** Creates a client of `endpoints` (http(s) URLs). */
export function createEtcdClient(endpoints: string[]): Etcd3 {
  const options: IOptions = {
    hosts: endpoints,
    dialTimeout: ETCD_CALL_TIMEOUT_MS,
    // why: grpc-js backs off up to 120 s between reconnects by default; a gateway
    // should notice a restarted etcd within a couple of seconds.
    grpcOptions: { 'grpc.initial_reconnect_backoff_ms': 200, 'grpc.max_reconnect_backoff_ms': 2000 },
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + ETCD_CALL_TIMEOUT_MS }),
    faultHandling: { watchBackoff: doubling(200, 2000) as unknown as NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']> },
  };
  return new Etcd3(options);
}
