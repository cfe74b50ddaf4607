/**
 * Turns the config's `grpc` entries into bindings and router routes. Runs
 * where the config is loaded (primary, CLI) to append the routes, and again
 * in each worker to get the bindings back (deterministic: the same protos
 * give the same keys), so only plain data crosses the process boundary.
 */
import type { GatewayConfig, GrpcTranscodeConfig, RouteConfig } from '../config/types.js';
import { assertUniqueBindings, configBinding, groupForRouter, httpBindings, type HttpBinding } from './http-rule/index.js';
import { loadProtoRoot } from './proto-root.js';
import type protobuf from 'protobufjs';

/** The bindings of one entry, by key, and its root. */
export interface GrpcEntryBindings {
  readonly root: protobuf.Root;
  readonly byKey: ReadonlyMap<string, HttpBinding>;
  readonly list: readonly HttpBinding[];
}

/** A binding's stable key: method, template and gRPC path. */
export function bindingKey(b: HttpBinding): string {
  return b.httpMethod + ' ' + b.template.source + ' ' + b.fullPath;
}

/** Loads an entry's protos and builds its bindings (annotations of `services`, then `routes`). Throws on any problem. */
export function entryBindings(g: GrpcTranscodeConfig): GrpcEntryBindings {
  const root = loadProtoRoot(g.protos, g.includeDirs);
  const list: HttpBinding[] = [...httpBindings(root, g.services)];
  for (const r of g.routes) list.push(configBinding(root, { rpc: r.rpc, method: r.method, path: r.path, body: r.body, responseBody: r.responseBody }));
  assertUniqueBindings(list);
  return { root, byKey: new Map(list.map((b) => [bindingKey(b), b])), list };
}

/**
 * The router routes of every entry: one per (HTTP method, router path), its
 * candidates tried in order on a hit. Named `grpc:<Service>/<Method>` after
 * the first candidate; a custom kind `*` matches any method. `bindings[i]`
 * is {@link entryBindings} of `config.grpc[i]`.
 */
export function grpcRoutes(config: GatewayConfig, bindings: readonly GrpcEntryBindings[], firstIndex: number): RouteConfig[] {
  const out: RouteConfig[] = [];
  config.grpc.forEach((g, gi) => {
    const { list } = bindings[gi];
    for (const group of groupForRouter(list)) {
      const first = group.candidates[0];
      out.push({
        name: `grpc:${first.service}/${first.method}` + (group.candidates.length > 1 ? `+${group.candidates.length - 1}` : '') + ` ${group.httpMethod} ${group.path}`,
        index: firstIndex + out.length,
        match: { path: group.path, methods: group.httpMethod === '*' ? null : [group.httpMethod], host: null, headers: {}, query: {} },
        upstream: g.upstream,
        split: null, sticky: null, rewrite: null, stripPrefix: null, preserveHost: false,
        timeout: { connectMs: 5000, headersMs: g.timeoutMs, requestMs: g.timeoutMs },
        rateLimit: [], policies: [], maxBodyBytes: null,
        transcode: { grpc: gi, candidates: group.candidates.map(bindingKey) },
      });
    }
  });
  return out;
}
