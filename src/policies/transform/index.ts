/**
 * The transform policy kind: reshapes JSON request bodies (requestBody
 * phase) and response bodies (responseBody phase, with a body gate so
 * non-JSON and oversize responses stream untouched), and maps response
 * statuses (responseHead phase). Paths, globs and templates are compiled
 * when the instance is built. See README, "### transform".
 */
import { parseSize } from '../../config/units.js';
import type { RequestContext } from '../../ingress/request-context.js';
import type { BufferedResponse, PolicyEnv, PolicyFactory, PolicyInstance, PolicyProvider, PolicySpec, ResponseHead, Verdict } from '../types.js';
import { JsonOps } from './json-ops.js';
import { registerTransformMetrics, TransformCounters } from './metrics.js';
import { checkTransform, transformSchema, type TransformConfig } from './schema.js';
import { TransformRuntime, type TransformSettings } from './transform-policy.js';

/** Default largest body transformed: 1 MiB. */
export const DEFAULT_MAX_BODY = 1024 * 1024;

/** The compiled settings of one spec. */
export function transformSettings(name: string, c: TransformConfig): TransformSettings {
  let status: Uint16Array | null = null;
  if (c.response?.status !== undefined) {
    status = new Uint16Array(600);
    for (const [from, to] of Object.entries(c.response.status)) status[Number(from)] = to;
  }
  return {
    name,
    maxBody: c.maxBody === undefined ? DEFAULT_MAX_BODY : parseSize(c.maxBody),
    failOversize: c.oversize === 'fail',
    request: c.request === undefined ? null : new JsonOps(c.request.json),
    response: c.response?.json === undefined ? null : new JsonOps(c.response.json),
    status,
  };
}

/**
 * The instance of one spec. Only the phases it needs are defined, so a
 * response-only policy adds nothing to a route's requestBody chain (and the
 * request body is not buffered for it).
 */
function transformInstance(rt: TransformRuntime): PolicyInstance {
  const inst: PolicyInstance = { name: 'transform:' + rt.s.name };
  if (rt.s.request !== null) {
    inst.requestBody = function transformRequest(ctx: RequestContext, body: Buffer): Verdict { return rt.request(ctx, body); };
  }
  if (rt.s.status !== null) {
    inst.responseHead = function mapStatus(_ctx: RequestContext, head: ResponseHead): undefined { rt.head(head); return undefined; };
  }
  if (rt.s.response !== null) {
    inst.responseBody = function transformResponse(ctx: RequestContext, res: BufferedResponse): Verdict { return rt.response(ctx, res); };
    inst.responseBodyLimit = function transformLimit(ctx: RequestContext, head: ResponseHead): number { return rt.limit(ctx, head); };
    inst.responseBodyPassed = function transformPassed(ctx: RequestContext): void { rt.passed(ctx); };
  }
  return inst;
}

/** The `transform` policy kind (registered in ../registry.ts). */
export const transformFactory: PolicyFactory = {
  name: 'transform',
  schema: transformSchema,
  check: checkTransform,
  create(specs: readonly PolicySpec[], _config, env: PolicyEnv): PolicyProvider {
    const byName = new Map<string, PolicyInstance>();
    const counters: TransformCounters[] = [];
    for (const s of specs) {
      const c = new TransformCounters(s.name);
      counters.push(c);
      byName.set(s.name, transformInstance(new TransformRuntime(transformSettings(s.name, s.config as TransformConfig), c, env.logger)));
    }
    registerTransformMetrics(env.registry, counters);
    return {
      instance: (spec) => byName.get(spec.name)!,
      status: () => null,
      ready: () => Promise.resolve(),
      close: () => Promise.resolve(),
    };
  },
};
