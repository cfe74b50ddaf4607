/**
 * Active health checks of grpc upstream targets: the standard
 * `grpc.health.v1.Health/Check` call (an HTTP GET cannot reach a gRPC
 * server), on a GrpcChannel of the probe's own so checks never queue behind
 * traffic, with the target's TLS settings for an https:// target. The two health messages are tiny and fixed, so they are
 * (de)serialised by hand rather than through a proto file.
 */
import type { ActiveHealthCheckConfig } from '../config/types.js';
import type { HealthProbe, HealthProbeFactory, ProbeResult } from '../upstream/health/health-probe.js';
import type { Target } from '../upstream/target.js';
import { tlsFailureReason } from '../errors/tls-failure.js';
import { GrpcChannel, GrpcCode, grpcCodeName } from './grpc-client/index.js';

/** The method every check calls. */
export const HEALTH_CHECK_PATH = '/grpc.health.v1.Health/Check';

/** grpc.health.v1.HealthCheckResponse.ServingStatus names by number. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
const SERVING = 1;

/**
 * The service a check asks about, from `healthCheck.path`: the path without
 * its slashes, so `/` asks about the whole server (service "") and
 * `/example.library.v1.LibraryService` about that service.
 */
export function healthServiceName(path: string): string {
  return path.replace(/^\/+|\/+$/g, '');
}

/** A serialised `HealthCheckRequest { string service = 1; }`. */
export function encodeHealthCheckRequest(service: string): Uint8Array {
  if (service === '') return new Uint8Array(0);
  const name = Buffer.from(service, 'utf8');
  const len = varint(name.length);
  return Buffer.concat([Buffer.from([0x0a]), len, name]);
}

/**
 * `HealthCheckResponse.status` (field 1, an enum) from a serialised response;
 * 0 (UNKNOWN) when absent. Unknown fields are skipped.
 */
export function decodeServingStatus(bytes: Uint8Array): number {
  let status = 0;
  let i = 0;
  while (i < bytes.length) {
    const [key, afterKey] = readVarint(bytes, i);
    i = afterKey;
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const [v, next] = readVarint(bytes, i);
      if (field === 1) status = v;
      i = next;
    } else if (wire === 2) {
      const [len, next] = readVarint(bytes, i);
      i = next + len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error(`unsupported wire type ${wire} in HealthCheckResponse`);
  }
  if (i > bytes.length) throw new Error('truncated HealthCheckResponse');
  return status;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function readVarint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  let i = at;
  for (;;) {
    if (i >= bytes.length) throw new Error('truncated varint in HealthCheckResponse');
    const b = bytes[i++];
    value += (b & 0x7f) * scale;
    if (b < 0x80) return [value, i];
    scale *= 128;
    if (scale > 2 ** 63) throw new Error('varint too long in HealthCheckResponse');
  }
}

/**
 * The probe for a grpc target: `Health/Check` for {@link healthServiceName}
 * of `healthCheck.path`, with `timeoutMs` as its deadline. Healthy: status
 * SERVING, or UNIMPLEMENTED sent by a gRPC server that has no health service
 * (as gRPC's own client-side health checking does: the server is up and
 * speaks gRPC over HTTP/2). Unhealthy: NOT_SERVING / SERVICE_UNKNOWN /
 * UNKNOWN, any other gRPC status, a failed connect (reason `tls: ...` when
 * TLS failed) and the deadline. `expectStatus` does not apply. Every check
 * dials again if its connection is gone (no backoff between checks), like
 * the HTTP probe. An https:// target is checked with the same TLS settings
 * (trust, client certificate, server name) as calls.
 */
export const grpcHealthProbe: HealthProbeFactory = (target: Target, config: ActiveHealthCheckConfig): HealthProbe => {
  const channel = new GrpcChannel(target.url, {
    connectTimeoutMs: config.timeoutMs, backoffInitialMs: 0, backoffMaxMs: 0, userAgent: 'turnpike-health-check', tls: target.tls,
  });
  const request = encodeHealthCheckRequest(healthServiceName(config.path));
  const timeout = `timeout after ${config.timeoutMs}ms`;
  return {
    async check(signal: AbortSignal): Promise<ProbeResult> {
      const r = await channel.unary(HEALTH_CHECK_PATH, request, { deadlineMs: config.timeoutMs, signal });
      if (r.status === GrpcCode.OK) {
        let serving: number;
        try {
          serving = decodeServingStatus(r.response!);
        } catch (err) {
          return { ok: false, reason: `undecodable HealthCheckResponse: ${(err as Error).message}` };
        }
        return { ok: serving === SERVING, reason: SERVING_STATUS[serving] ?? `serving status ${serving}` };
      }
      if (r.status === GrpcCode.UNIMPLEMENTED && r.trailers['grpc-status'] !== undefined) {
        return { ok: true, reason: 'UNIMPLEMENTED (no grpc.health.v1 service; the server answers gRPC)' };
      }
      if (signal.aborted || r.status === GrpcCode.DEADLINE_EXCEEDED) return { ok: false, reason: timeout };
      const tls = r.status === GrpcCode.UNAVAILABLE && r.cause !== null ? tlsFailureReason(r.cause) : null;
      if (tls !== null) return { ok: false, reason: `tls: ${tls}` };
      return { ok: false, reason: `${grpcCodeName(r.status)}: ${r.message}` };
    },
    // why: destroy resets a check still in flight at once; close then waits for the session to be gone.
    close: () => {
      channel.destroy();
      return channel.close();
    },
  };
};
