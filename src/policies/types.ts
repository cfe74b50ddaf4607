/**
 * The policy contract. A policy kind (one folder under src/policies/, one
 * line in registry.ts) declares its JSON Schema fragment and semantic checks
 * (run at config load, so errors name file, line and path), and builds one
 * instance per configured policy at worker start; per request only the phase
 * methods run.
 *
 * Phases, in request order (Kong/Envoy style). Only the phases an instance
 * defines are put in a route's compiled chain, so a phase no policy of the
 * route implements costs one null check, and a route with no policies runs
 * exactly the plain proxy path:
 * - `access(ctx)`: after the route matched, before anything goes upstream.
 *   Returns `undefined` (continue), a {@link GatewayError} (answer with it),
 *   a {@link LocalResponse} (answer with it: a CORS preflight, a cached
 *   answer, a mock), or a Promise of one of these. The upstream request
 *   (path, headers, split pick, hash key) is built after the last verdict,
 *   so an asynchronous policy can still change what is sent.
 * - `requestBody(ctx, body)`: opt-in whole request body (buffered up to the
 *   route's `maxBodySize`, 413 above). A policy may replace `ctx.requestBody`.
 * - `responseHead(ctx, head)`: status and headers before they go to the
 *   client (upstream, terminal, local and problem responses alike); mutate
 *   `head`, or return a GatewayError / LocalResponse to replace an upstream
 *   or terminal response (ignored on local and problem responses, with one
 *   exception: a problem the terminal produced — an upstream failure such
 *   as a refused connection, a timeout, no healthy target or an open
 *   breaker — comes with `head.problem` set, and a LocalResponse returned
 *   for it replaces it; the response cache serves a stale entry that way).
 *   The policy may also attach a streaming tap on the upstream body
 *   (`ctx.bodyTap`, see upstream/body-tap.ts).
 * - `responseBody(ctx, res)`: opt-in whole response body (upstream responses
 *   are then buffered instead of streamed); mutate `res`, or replace it.
 *   With `responseBodyLimit` a policy may decline one response's body phase
 *   from its head, or take bodies up to a limit only (see body-gate.ts).
 * - `onLog(ctx)`: after the response is complete (or the client went away).
 */
import type { Registry } from 'prom-client';
import type { GatewayConfig } from '../config/types.js';
import type { ConfigPath } from '../config/issues.js';
import type { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import type { Logger } from '../observability/logger.js';
import type { LocalResponse } from './local-response.js';
import type { CommandRegistry } from '../process/worker-commands.js';
import type { UpstreamClient } from '../upstream/upstream-client.js';

export { LocalResponse } from './local-response.js';

/** A verdict: continue (undefined), answer with a problem, or answer locally. */
export type Verdict = GatewayError | LocalResponse | undefined;

/** What an access or body phase returns: a verdict or a Promise of one. */
export type PhaseResult = Verdict | Promise<Verdict>;

/**
 * A response head on its way to the client. `headers` is a flat
 * `[name, value, ...]` list with lower-case names; policies edit it in place
 * (see the helpers in response-head.ts).
 */
export interface ResponseHead {
  status: number;
  readonly headers: string[];
  /**
   * Set only on the head of a problem the terminal produced (an upstream
   * failure: 502 connect/TLS/bad response, 503 no target or open breaker,
   * 504 timeout): the error. A policy may return a LocalResponse to answer
   * instead (any other verdict is ignored); the replacement then goes
   * through the responseHead phase as a local response.
   */
  readonly problem?: GatewayError;
}

/** A whole buffered response (the responseBody phase). */
export interface BufferedResponse extends ResponseHead {
  body: Buffer;
}

/** One configured policy, as the request path sees it. */
export interface PolicyInstance {
  /** `<kind>:<policy name>`, for logs, metrics and explain output (e.g. `cors:web-cors`). */
  readonly name: string;
  access?(ctx: RequestContext): PhaseResult;
  requestBody?(ctx: RequestContext, body: Buffer): PhaseResult;
  responseHead?(ctx: RequestContext, head: ResponseHead): Verdict;
  responseBody?(ctx: RequestContext, res: BufferedResponse): PhaseResult;
  /**
   * Optional companion of responseBody, asked once per response with its head
   * (after the responseHead phase) before the body is buffered: the most body
   * bytes this policy takes. `0` declines (its responseBody does not run for
   * this response); `n > 0` takes bodies up to n bytes and leaves larger ones
   * alone (a streamed body growing past n is streamed on untransformed when
   * no other policy still takes it); `-n` takes bodies up to n bytes and
   * fails larger ones (502 `upstream_response_too_large`). The route's
   * `maxBodySize` bounds every limit. Without the method: `-maxBodySize`.
   */
  responseBodyLimit?(ctx: RequestContext, head: ResponseHead): number;
  /** The response's body is larger than the positive limit responseBodyLimit gave: this policy was left out of its body phase. */
  responseBodyPassed?(ctx: RequestContext, bytes: number): void;
  onLog?(ctx: RequestContext): void;
}

/** What a kind's provider gets besides the config. */
export interface PolicyEnv {
  /** Worker processes of this instance (the config's server.workers). */
  readonly workers: number;
  readonly logger: Logger;
  /** The worker's metrics registry; each policy registers the metrics it declares. */
  readonly registry: Registry;
  /** Epoch ms; injectable for tests. */
  readonly now: () => number;
  /**
   * The worker's admin command table: a kind registers what the admin API
   * may ask of it (e.g. `cache-purge`); see src/process/worker-commands.ts.
   */
  readonly commands: CommandRegistry;
  /**
   * Requests of the policy's own to the worker's upstreams (through their
   * balancers, pools and passive health), e.g. a cache's background
   * revalidation or a response aggregation; see upstream/upstream-client.ts.
   * Always set in a gateway worker; absent in unit tests that build an env by hand.
   */
  readonly upstream?: UpstreamClient;
}

/**
 * One configured policy, from the config: a named entry of `policies`, an
 * inline `{ <kind>: <config> }` in a route's list (named
 * `<route>#<position>`), or a `rateLimits` shorthand entry.
 */
export interface PolicySpec {
  readonly name: string;
  readonly kind: string;
  /** The kind's config exactly as written (schema- and check-valid). */
  readonly config: unknown;
  /** Where it was written, for messages (`policies.office`, `routes[2].policies[1]`). */
  readonly at: ConfigPath;
}

/** Adds a config problem at a path (the loader turns it into file:line:col). */
export type IssueSink = (path: ConfigPath, message: string) => void;

/** The policies of one kind, built once per worker. */
export interface PolicyProvider {
  /** The instance for one spec of this kind (called once per spec). */
  instance(spec: PolicySpec): PolicyInstance;
  /** State for `/readyz` details (null when there is nothing to say). */
  status(): unknown;
  /** Resolves when the provider can decide normally (e.g. its store connected) or gave up waiting; never rejects. */
  ready(): Promise<void>;
  /** Releases connections and timers (worker drain). */
  close(): Promise<void>;
}

/** A policy kind: its folder exports one of these; registry.ts lists it. */
export interface PolicyFactory {
  /** Kebab-case kind name, the key in config (`ip-restriction`). */
  readonly name: string;
  /**
   * JSON Schema (2020-12) of the kind's config, composed into the gateway
   * schema at load; `x-message` gives custom error texts (see
   * config/schema-check.ts).
   */
  readonly schema: Readonly<Record<string, unknown>>;
  /**
   * Checks the schema cannot express (CIDRs parse, values consistent); `at` is
   * the path of the kind's config; `file` is the config file as given to the
   * loader (files a policy reads resolve against its directory).
   */
  check?(config: unknown, at: ConfigPath, issue: IssueSink, gateway: Readonly<Record<string, unknown>>, file: string): void;
  /**
   * Builds the provider for the specs of this kind (never called with none).
   * Work once here: validate, precompute, connect.
   */
  create(specs: readonly PolicySpec[], config: GatewayConfig, env: PolicyEnv): PolicyProvider;
}
