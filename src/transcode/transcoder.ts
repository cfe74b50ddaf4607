/**
 * The worker side of REST→gRPC transcoding: per `grpc` entry its bindings,
 * its codec (inline or thread pool by size) and its upstream's group (the
 * targets' GrpcChannels, balancer and health); per request: pick the
 * binding, read the body, map the request, encode, pick a target, call,
 * decode, answer (or stream) JSON.
 */
import type { GatewayConfig, GrpcTranscodeConfig } from '../config/types.js';
import { ErrorCodes, grpcErrorCode } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import type { CompiledRoute } from '../router/index.js';
import { buildForwardingHeaders, listenerScheme } from '../upstream/forward-headers.js';
import { ProtoCodec } from './codec-pool/codec.js';
import { grpcCodeName, headersFromTrailers, httpStatusFromGrpc, metadataFromHeaders, type GrpcStatus } from './grpc-client/index.js';
import { entryBindings } from './grpc-routes.js';
import { grpcTlsFailure, hashSource, type GrpcUpstreamGroup, type HashSource } from './grpc-upstream.js';
import { buildRequestObject, jsonName, type HttpBinding } from './http-rule/index.js';
import { decodeGrpcStatusDetails } from './json-mapping/index.js';
import type protobuf from 'protobufjs';
import { TranscodeCall, type TranscodeSink } from './transcode-call.js';

/** One `grpc` entry, ready to serve. */
export interface TranscodeEntry {
  readonly cfg: GrpcTranscodeConfig;
  /** The entry's protos (resolves Any types in error details). */
  readonly root: protobuf.Root;
  readonly byKey: ReadonlyMap<string, HttpBinding>;
  readonly codec: ProtoCodec;
  /** The upstream's group: one GrpcChannel per target, its balancer and health state (owned by the worker). */
  readonly group: GrpcUpstreamGroup;
  /** What `balance: hash` hashes (null for the other balancers). */
  readonly hashOn: HashSource | null;
  /** X-Forwarded-Proto: the scheme of this worker's listener. */
  readonly proto: string;
}

const ERR_NO_BINDING = new GatewayError(ErrorCodes.ROUTE_NOT_FOUND, 'No gRPC method matches this path');

/** Every transcoding entry of a worker. */
export class Transcoder {
  private readonly entries: TranscodeEntry[];

  /**
   * @param groups the group of every grpc upstream (createGrpcUpstreamGroup),
   *   by name; the caller owns and closes them
   * @throws Error when an entry's upstream has no group
   */
  constructor(config: GatewayConfig, groups: ReadonlyMap<string, GrpcUpstreamGroup>) {
    const proto = listenerScheme(config);
    this.entries = config.grpc.map((cfg) => {
      const group = groups.get(cfg.upstream);
      if (group === undefined) throw new Error(`no upstream group for grpc upstream "${cfg.upstream}"`);
      const { byKey, root } = entryBindings(cfg);
      return {
        cfg, byKey, root, group, hashOn: hashSource(config.upstreams[cfg.upstream]), proto,
        codec: new ProtoCodec({
          files: cfg.protos, includeDirs: cfg.includeDirs, offload: cfg.offload,
          offloadThresholdBytes: cfg.offloadThresholdBytes, threads: cfg.threads, root,
        }),
      };
    });
  }

  /**
   * Starts a transcoded exchange for a matched route, with the whole request
   * body the ingress buffered (null when there is none).
   */
  start(ctx: RequestContext, route: CompiledRoute, sink: TranscodeSink, body: Buffer | null): void {
    const t = route.transcode!;
    const entry = this.entries[t.grpc];
    let binding: HttpBinding | undefined;
    let vars = null;
    for (const key of t.candidates) {
      const b = entry.byKey.get(key)!;
      vars = b.route.match(ctx.path);
      if (vars !== null) { binding = b; break; }
    }
    if (binding === undefined || vars === null) return sink.problem(ctx, ERR_NO_BINDING, null, false);
    new TranscodeCall(ctx, route, entry, binding, vars, sink, body).begin();
  }

  /** Stops the codec threads (the channels belong to the upstream groups, closed by their owner). */
  async close(): Promise<void> {
    await Promise.all(this.entries.map((e) => e.codec.close()));
  }
}

/** The request message for a call, as proto3 JSON (path vars, body, query). */
export function requestObject(entry: TranscodeEntry, b: HttpBinding, vars: Array<[string, string]>, query: string, body: unknown): Record<string, unknown> {
  return buildRequestObject(b, vars, query, body, { ignoreUnknownQuery: entry.cfg.unknownFields === 'ignore' });
}

/** The response field to return (`response_body`) as its JSON name, or '' for the whole message. */
export function responseField(b: HttpBinding): string {
  if (b.responseBody === '') return '';
  return jsonName(b.responseType.fields[b.responseBody]);
}

/**
 * The problem for a non-OK gRPC status: its message as `detail`, the status
 * name as `grpcStatus`, and the google.rpc.Status details (from
 * grpc-status-details-bin, Any payloads resolved where the type is known) as
 * `grpcDetails`.
 */
export function grpcProblem(status: number, message: string, details: Uint8Array | null = null, root?: protobuf.Root): GatewayError {
  const name = grpcCodeName(status);
  const err = new GatewayError(grpcErrorCode(name, httpStatusFromGrpc(status)), message === '' ? undefined : message);
  let extra = ',"grpcStatus":' + JSON.stringify(name);
  if (details !== null && details.length > 0) {
    try {
      extra += ',"grpcDetails":' + JSON.stringify(decodeGrpcStatusDetails(details, root).details);
    } catch {
      // undecodable details: the status and message still go out
    }
  }
  err.extraMembers = extra;
  return err;
}

/**
 * The problem for a call that ended with a non-OK status before any
 * response went out: `502 upstream_tls` with the short reason when TLS to
 * the target failed (as for proxied routes), else {@link grpcProblem}.
 */
export function callProblem(st: GrpcStatus, root?: protobuf.Root): GatewayError {
  const tls = grpcTlsFailure(st);
  if (tls !== null) return new GatewayError(ErrorCodes.UPSTREAM_TLS, tls, { cause: st.cause });
  return grpcProblem(st.status, st.message, st.details, root);
}

/** Request headers the gateway sets itself (never copied from the client, even when allowlisted). */
const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id',
  'x-consumer-id', 'x-consumer-username', 'x-consumer-groups', 'x-anonymous-consumer',
  'x-client-cert-subject', 'x-client-cert-fingerprint']);

/**
 * The call's gRPC metadata: the allowlisted request headers, then always
 * X-Request-Id and X-Forwarded-For/-Proto/-Host computed exactly as for HTTP
 * upstreams ({@link buildForwardingHeaders}: a client's X-Forwarded-* is kept
 * only from a trusted proxy), and the consumer identity the gateway
 * established. The client's own values of those never pass through the
 * allowlist.
 *
 * @param proto the listener's scheme (X-Forwarded-Proto)
 */
export function requestMetadata(ctx: RequestContext, allow: readonly string[], proto: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (allow.length > 0) {
    const pairs: Array<[string, string]> = [];
    for (let i = 0; i < ctx.headerNames.length; i++) {
      const name = ctx.headerNames[i];
      // A traced request's trace context is the gateway's own (appended by buildForwardingHeaders).
      if (FORWARDING.has(name) || (ctx.trace !== null && (name === 'traceparent' || name === 'tracestate'))) continue;
      pairs.push([name, ctx.headerValues[i]]);
    }
    out.push(...metadataFromHeaders(pairs, allow));
  }
  const fwd = buildForwardingHeaders(ctx, proto);
  for (let i = 0; i < fwd.length; i += 2) out.push([fwd[i], fwd[i + 1]]);
  return out;
}

/** Allowlisted response metadata (headers then trailers) as `grpc-metadata-*` HTTP headers. */
export function responseMetadata(entry: TranscodeEntry, headers: Record<string, string>, trailers: Record<string, string>): Record<string, string> {
  if (entry.cfg.responseHeaders.length === 0) return {};
  return { ...headersFromTrailers(headers, entry.cfg.responseHeaders, 'grpc-metadata-'), ...headersFromTrailers(trailers, entry.cfg.responseHeaders, 'grpc-metadata-') };
}
