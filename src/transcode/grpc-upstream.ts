/**
 * grpc upstreams as upstream groups: the same balancers, passive ejection
 * and active checks as proxied upstreams, with one GrpcChannel per target
 * (owned and closed by the group) and grpc.health.v1 checks. Also the rules
 * that map a call's outcome onto the group.
 */
import type { UpstreamConfig } from '../config/types.js';
import { tlsFailureReason } from '../errors/tls-failure.js';
import type { RequestContext } from '../ingress/request-context.js';
import { createUpstreamGroup, type UpstreamGroup, type UpstreamGroupOptions } from '../upstream/upstream-group.js';
import type { Target } from '../upstream/target.js';
import { GrpcChannel, GrpcCode, type GrpcStatus } from './grpc-client/index.js';
import { grpcHealthProbe } from './grpc-health.js';

/** The group of a grpc upstream: its targets carry GrpcChannels. */
export type GrpcUpstreamGroup = UpstreamGroup<GrpcChannel>;

/** Options of {@link createGrpcUpstreamGroup}: those of any group, minus how targets connect and are checked. */
export type GrpcUpstreamGroupOptions = Omit<UpstreamGroupOptions<GrpcChannel>, 'connect' | 'healthProbe'>;

/**
 * The group for a `protocol: grpc` upstream: one GrpcChannel per target
 * (`connectTimeoutMs` = TCP connect + TLS handshake + the server's
 * SETTINGS; an https:// target uses the upstream's TLS context and server
 * name), the configured balancer, passive health, and active checks by
 * `grpc.health.v1.Health/Check` (see grpcHealthProbe).
 */
export function createGrpcUpstreamGroup(config: UpstreamConfig, options: GrpcUpstreamGroupOptions = {}): GrpcUpstreamGroup {
  const connectTimeoutMs = options.connectTimeoutMs ?? 5000;
  return createUpstreamGroup<GrpcChannel>(config, {
    ...options,
    connect: (url, tls) => new GrpcChannel(url, { connectTimeoutMs, tls }),
    healthProbe: grpcHealthProbe,
  });
}

/**
 * Reports a finished call to passive health. UNAVAILABLE (connect
 * failure, connection lost, target down or refusing) is a `connect`
 * failure (`tls` when the TLS handshake failed, which counts the same) and
 * DEADLINE_EXCEEDED a `timeout`, as for proxied requests; CANCELLED (the
 * client went away) says nothing about the target; every other status,
 * application errors included, means the target answered.
 */
export function reportGrpcOutcome(group: GrpcUpstreamGroup, target: Target, st: GrpcStatus): void {
  const status = st.status;
  if (status === GrpcCode.UNAVAILABLE) group.reportFailure(target, grpcTlsFailure(st) !== null ? 'tls' : 'connect');
  else if (status === GrpcCode.DEADLINE_EXCEEDED) group.reportFailure(target, 'timeout');
  else if (status !== GrpcCode.CANCELLED) group.reportSuccess(target, 200);
}

/**
 * The safe reason (see tlsFailureReason) when a call failed because TLS to
 * its target did (certificate not trusted or not valid for the name,
 * handshake failure, a TLS alert such as "certificate required"), else null.
 */
export function grpcTlsFailure(st: GrpcStatus): string | null {
  return st.status === GrpcCode.UNAVAILABLE && st.cause !== null ? tlsFailureReason(st.cause) : null;
}

/**
 * Whether a failed attempt may go to another target: it never reached the
 * server (so any method is safe to resend), it is the first attempt, and
 * the group has another target. As proxied requests: one retry.
 */
export function mayRetryElsewhere(group: GrpcUpstreamGroup, status: GrpcStatus, attempts: number): boolean {
  return status.status === GrpcCode.UNAVAILABLE && !status.sent && attempts < 2 && group.targets.length > 1;
}

/** A parsed `hashOn` (`ip` or `header:<name>`), or null when the upstream does not hash. */
export interface HashSource {
  readonly ip: boolean;
  /** Lower-case header name ('' for ip). */
  readonly header: string;
}

/** The upstream's hash source (parsed once per entry), null unless `balance: hash`. */
export function hashSource(config: UpstreamConfig): HashSource | null {
  if (config.balance !== 'hash') return null;
  return config.hashOn === 'ip' ? { ip: true, header: '' } : { ip: false, header: config.hashOn.slice('header:'.length) };
}

/** The request's balancing key for `balance: hash` ('' when none), as the proxy computes it. */
export function hashKeyOf(ctx: RequestContext, source: HashSource | null): string {
  if (source === null) return '';
  return source.ip ? ctx.clientIp : ctx.header(source.header);
}
