/**
 * One validate policy on the request path. Only the phases it needs are
 * defined: `access` for path params, query, headers (and the Content-Type
 * of a body that will be validated, refused with 415 before the body is
 * read), `requestBody` only when a body is validated (so a route that
 * checks only the query never buffers its body), `responseHead` only in
 * monitor mode.
 */
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../ingress/request-context.js';
import type { PhaseResult, PolicyInstance, ResponseHead, Verdict } from '../types.js';
import { PART_BODY, PART_HEADERS, PART_PARAMS, PART_QUERY, type ValidateCounters } from './metrics.js';
import { BODY_NOT_JSON, BODY_OK, checkBody, checkHeaders, checkParams, checkQuery, isJsonType, type OperationCheck } from './part-checks.js';
import { decodeParam } from './path-template.js';
import type { ResponseMonitor } from './response-monitor.js';
import type { OpenApiOperation } from './openapi-operations.js';
import type { ValidateSettings } from './settings.js';
import { ValidationErrors } from './validation-errors.js';

// why: the phases run synchronously, so one scratch list of path param
// values and one "operation just matched" slot serve every request (no
// allocation per match).
const SCRATCH: string[] = [];
let matched: OpenApiOperation | null = null;

/**
 * What a request is validated against: the check, or undefined when no
 * operation of the document matches (`operation: auto`). Leaves the matched
 * OpenAPI operation in `matched` and its raw path param values in SCRATCH.
 */
function operationFor(s: ValidateSettings, ctx: RequestContext): OperationCheck | undefined {
  if (s.plain !== null) {
    matched = null;
    return s.plain;
  }
  matched = s.table!.match(ctx.method, ctx.path, SCRATCH);
  if (matched !== null) return matched.check;
  // A named operation applies even when its template does not match the
  // path (the route decides); its path params are then not checked.
  if (s.single !== null) {
    SCRATCH.length = 0;
    return s.single.check;
  }
  return undefined;
}

/** Builds the instance of one validate policy. */
export function validateInstance(
  name: string, s: ValidateSettings, counters: ValidateCounters, monitor: ResponseMonitor | null,
): PolicyInstance {
  const inst: { name: string; access?: (ctx: RequestContext) => Verdict; requestBody?: (ctx: RequestContext, body: Buffer) => PhaseResult;
    responseHead?: (ctx: RequestContext, head: ResponseHead) => Verdict; } = { name: 'validate:' + name };

  inst.access = function validateRequest(ctx: RequestContext): Verdict {
    const op = operationFor(s, ctx);
    if (op === undefined) {
      return s.unmatched === 'pass' ? undefined
        : new GatewayError(ErrorCodes.ROUTE_NOT_FOUND, `No operation of the OpenAPI document matches ${ctx.method} ${ctx.path.length > 200 ? ctx.path.slice(0, 200) + '…' : ctx.path}`);
    }
    let errors: ValidationErrors | null = null;
    if (op.params !== null) {
      errors = new ValidationErrors();
      let ok: boolean;
      if (s.plain !== null) ok = checkParams(op.params, ctx.route!.paramNames, ctx.params, errors);
      else ok = checkOpenApiParams(op, errors);
      counters.part(ctx, PART_PARAMS, ok);
    }
    if (op.query !== null) {
      errors ??= new ValidationErrors();
      counters.part(ctx, PART_QUERY, checkQuery(op.query, ctx.query, errors));
    }
    if (op.headers !== null) {
      errors ??= new ValidationErrors();
      counters.part(ctx, PART_HEADERS, checkHeaders(op.headers, ctx, errors));
    }
    if (errors !== null && errors.total > 0) return errors.toProblem();
    if (op.body !== null && (ctx.contentLength > 0 || ctx.transferEncoding !== '')) {
      const encoding = ctx.header('content-encoding');
      if (encoding !== '' && encoding !== 'identity') {
        counters.part(ctx, PART_BODY, false);
        return new GatewayError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'A validated body must not be content-encoded');
      }
      if (!isJsonType(ctx.header('content-type'))) {
        counters.part(ctx, PART_BODY, false);
        return new GatewayError(ErrorCodes.UNSUPPORTED_MEDIA_TYPE, 'The body must be JSON (Content-Type: application/json)');
      }
    }
    return undefined;
  };

  if (s.hasBody) {
    inst.requestBody = function validateRequestBody(ctx: RequestContext, body: Buffer): Verdict {
      const op = operationFor(s, ctx);
      if (op === undefined || op.body === null) return undefined;
      const errors = new ValidationErrors();
      const r = checkBody(op.body, body, errors);
      counters.part(ctx, PART_BODY, r === BODY_OK);
      if (r === BODY_OK) return undefined;
      if (r === BODY_NOT_JSON) return new GatewayError(ErrorCodes.INVALID_JSON);
      return errors.toProblem();
    };
  }

  if (monitor !== null) {
    inst.responseHead = function monitorResponse(ctx: RequestContext, head: ResponseHead): undefined {
      const op = operationFor(s, ctx);
      if (op !== undefined) monitor.onHead(ctx, op, head);
      return undefined;
    };
  }
  return inst;
}

/** Path params of an OpenAPI operation (raw values in SCRATCH, decoded here); true when not checkable. */
function checkOpenApiParams(op: OperationCheck, errors: ValidationErrors): boolean {
  if (matched === null) return true;
  const names = matched.template.params;
  for (let i = 0; i < SCRATCH.length; i++) {
    const v = decodeParam(SCRATCH[i]);
    if (v === null) {
      errors.add('/params/' + names[i], '', '', 'is not valid percent-encoding');
      return false;
    }
    SCRATCH[i] = v;
  }
  return checkParams(op.params!, names, SCRATCH, errors);
}
