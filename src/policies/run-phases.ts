/**
 * The runners of the request-path phases. Synchronous verdicts are handled
 * in a plain loop; only a real Promise makes the rest of a phase
 * asynchronous. A policy that throws (or rejects) answers 500
 * `internal_error` for that request only; the worker goes on.
 */
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import { LocalResponse } from './local-response.js';
import { traceVerdict } from '../observability/tracing/verdict-event.js';
import type { BufferedResponse, PhaseResult, PolicyInstance, ResponseHead, Verdict } from './types.js';

/** A policy threw: the request gets a 500 naming the policy (the cause goes to the log). */
export function policyFailure(name: string, err: unknown): GatewayError {
  return new GatewayError(ErrorCodes.INTERNAL, 'Policy ' + name + ' failed', { cause: err });
}

/** Runs the access phase from instance `from`. */
export function runAccess(chain: readonly PolicyInstance[], ctx: RequestContext, from = 0): PhaseResult {
  for (let i = from; i < chain.length; i++) {
    let r: PhaseResult;
    try {
      r = chain[i].access!(ctx);
    } catch (err) {
      return traced(ctx, chain[i].name, 'access', policyFailure(chain[i].name, err));
    }
    if (r === undefined) continue;
    if (r instanceof Promise) return continueAccess(r, chain, ctx, i);
    return traced(ctx, chain[i].name, 'access', r);
  }
  return undefined;
}

function continueAccess(p: Promise<Verdict>, chain: readonly PolicyInstance[], ctx: RequestContext, at: number): Promise<Verdict> {
  return p.then(
    (r) => (r !== undefined ? traced(ctx, chain[at].name, 'access', r) : at + 1 >= chain.length ? r : runAccess(chain, ctx, at + 1)),
    (err: unknown) => traced(ctx, chain[at].name, 'access', policyFailure(chain[at].name, err)),
  );
}

/** Records a policy's verdict on the request's span (traced requests only) and returns it. */
function traced<V extends Verdict>(ctx: RequestContext, name: string, phase: string, v: V): V {
  // why: an untraced request pays this one null check, and only when a policy answered.
  if (ctx.trace !== null) traceVerdict(ctx, name, phase, v);
  return v;
}

/** Runs the requestBody phase on `ctx.requestBody` (each policy sees the body the previous one left). */
export function runRequestBody(chain: readonly PolicyInstance[], ctx: RequestContext, from = 0): PhaseResult {
  for (let i = from; i < chain.length; i++) {
    let r: PhaseResult;
    try {
      r = chain[i].requestBody!(ctx, ctx.requestBody!);
    } catch (err) {
      return traced(ctx, chain[i].name, 'requestBody', policyFailure(chain[i].name, err));
    }
    if (r === undefined) continue;
    if (r instanceof Promise) {
      const at = i;
      return r.then((v) => (v !== undefined ? traced(ctx, chain[at].name, 'requestBody', v) : at + 1 >= chain.length ? v : runRequestBody(chain, ctx, at + 1)),
        (err: unknown) => traced(ctx, chain[at].name, 'requestBody', policyFailure(chain[at].name, err)));
    }
    return traced(ctx, chain[i].name, 'requestBody', r);
  }
  return undefined;
}

/**
 * Runs the responseHead phase. Returns a replacement (problem or local
 * response) when a policy asks for one and `replaceable`; otherwise
 * undefined. A throwing policy is a 500 replacement when replaceable, and is
 * reported through `onError` otherwise.
 */
export function runResponseHead(
  chain: readonly PolicyInstance[], ctx: RequestContext, head: ResponseHead, replaceable: boolean,
  onError: (name: string, err: unknown) => void,
): Verdict {
  for (let i = 0; i < chain.length; i++) {
    let r: Verdict;
    try {
      r = chain[i].responseHead!(ctx, head);
    } catch (err) {
      if (replaceable) return policyFailure(chain[i].name, err);
      onError(chain[i].name, err);
      continue;
    }
    if (r !== undefined && replaceable) return r;
  }
  return undefined;
}

/**
 * Runs the responseHead phase on the head of a problem the terminal produced
 * (`head.problem` set): every policy sees it, a throwing one is reported
 * through `onError` and skipped; the first LocalResponse a policy returns
 * replaces the problem (the phase stops there: the replacement gets its own
 * responseHead phase). Other verdicts are ignored.
 */
export function runProblemHead(
  chain: readonly PolicyInstance[], ctx: RequestContext, head: ResponseHead, onError: (name: string, err: unknown) => void,
): LocalResponse | undefined {
  for (let i = 0; i < chain.length; i++) {
    let r: Verdict;
    try {
      r = chain[i].responseHead!(ctx, head);
    } catch (err) {
      onError(chain[i].name, err);
      continue;
    }
    if (r instanceof LocalResponse) return r;
  }
  return undefined;
}

/** Runs the responseBody phase on a whole buffered response. */
export function runResponseBody(chain: readonly PolicyInstance[], ctx: RequestContext, res: BufferedResponse, from = 0): PhaseResult {
  for (let i = from; i < chain.length; i++) {
    let r: PhaseResult;
    try {
      r = chain[i].responseBody!(ctx, res);
    } catch (err) {
      return policyFailure(chain[i].name, err);
    }
    if (r === undefined) continue;
    if (r instanceof Promise) {
      const at = i;
      return r.then((v) => (v !== undefined || at + 1 >= chain.length ? v : runResponseBody(chain, ctx, res, at + 1)),
        (err: unknown) => policyFailure(chain[at].name, err));
    }
    return r;
  }
  return undefined;
}

/** Runs the onLog phase; a throwing policy does not stop the others. */
export function runLog(chain: readonly PolicyInstance[], ctx: RequestContext, onError: (name: string, err: unknown) => void): void {
  for (let i = 0; i < chain.length; i++) {
    try {
      chain[i].onLog!(ctx);
    } catch (err) {
      onError(chain[i].name, err);
    }
  }
}
