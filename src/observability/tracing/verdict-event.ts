import type { RequestContext } from '../../ingress/request-context.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { LocalResponse } from '../../policies/local-response.js';
import { encodeEvent, intAttr, stringAttr } from './otlp-json.js';

/**
 * Records a policy's verdict on a sampled request's span: an event
 * `policy.verdict` naming the policy, the phase and the answer (a problem's
 * status and code, or a local response's status). Callers check
 * `ctx.trace !== null` first, so untraced requests pay one null check.
 */
export function traceVerdict(ctx: RequestContext, policy: string, phase: string, verdict: unknown): void {
  const t = ctx.trace;
  if (t === null || !t.recording) return;
  let attrs: string;
  if (verdict instanceof GatewayError) {
    attrs = stringAttr('turnpike.policy', policy) + ',' + stringAttr('turnpike.phase', phase) + ','
      + stringAttr('turnpike.verdict', 'refused') + ',' + intAttr('http.response.status_code', verdict.status) + ','
      + stringAttr('turnpike.problem.code', verdict.code);
  } else if (verdict instanceof LocalResponse) {
    attrs = stringAttr('turnpike.policy', policy) + ',' + stringAttr('turnpike.phase', phase) + ','
      + stringAttr('turnpike.verdict', 'answered') + ',' + intAttr('http.response.status_code', verdict.status);
  } else {
    return;
  }
  const event = encodeEvent('policy.verdict', performance.timeOrigin + performance.now(), attrs);
  t.events = t.events === '' ? event : t.events + ',' + event;
}
