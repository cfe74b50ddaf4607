/**
 * The headers policy kind: edits the request headers sent upstream (access
 * phase, through the context's header list the upstream request is built
 * from) and the response headers sent to the client (responseHead phase:
 * upstream, local and problem responses alike). Templates are compiled when
 * the instance is built; see header-edits.ts for the order of the edits and
 * field-value.ts for what substituted text may contain.
 */
import type { RequestContext } from '../../ingress/request-context.js';
import type { PolicyFactory, PolicyInstance, PolicyProvider, PolicySpec, ResponseHead, Verdict } from '../types.js';
import { HeaderEdits, type HeaderOpsConfig } from './header-edits.js';
import { statelessProvider } from '../stateless-provider.js';
import { checkHeaders, headersSchema } from './schema.js';

/** A `headers` policy's config as written. */
export interface HeadersConfig {
  readonly request?: HeaderOpsConfig;
  readonly response?: HeaderOpsConfig;
}

/** One headers policy: an access method when it edits the request, a responseHead one when it edits the response. */
interface HeadersInstance extends PolicyInstance {
  access?: (ctx: RequestContext) => undefined;
  responseHead?: (ctx: RequestContext, head: ResponseHead) => Verdict;
}

/**
 * Builds the instance of one headers spec. Only the phases it needs are
 * defined, so a response-only policy adds nothing to a route's access chain.
 */
export function headersInstance(spec: PolicySpec): PolicyInstance {
  const config = (spec.config ?? {}) as HeadersConfig;
  const inst: HeadersInstance = { name: 'headers:' + spec.name };
  if (config.request !== undefined) {
    const edits = new HeaderEdits(config.request);
    inst.access = function editRequestHeaders(ctx: RequestContext): undefined {
      edits.applyToRequest(ctx);
      return undefined;
    };
  }
  if (config.response !== undefined) {
    const edits = new HeaderEdits(config.response);
    inst.responseHead = function editResponseHeaders(ctx: RequestContext, head: ResponseHead): undefined {
      edits.applyToResponse(ctx, head.headers);
      return undefined;
    };
  }
  return inst;
}

/** The `headers` policy kind (registered in ../registry.ts). */
export const headersFactory: PolicyFactory = {
  name: 'headers',
  schema: headersSchema,
  check: checkHeaders,
  create(specs: readonly PolicySpec[]): PolicyProvider {
    return statelessProvider(specs, headersInstance);
  },
};
