/**
 * Request keys by spec (`ip` or `header:<name>`): sticky splits, `hash`
 * balancing, WebSocket and aggregate target picks, a policy's repeated
 * request. Parsed once at construction; per request one field read.
 */
import type { RequestContext } from '../ingress/request-context.js';

/** A parsed `ip` / `header:<name>` key spec (sticky splits, hash balancing). */
export interface KeySpec {
  readonly ip: boolean;
  /** Lower-case header name ('' for ip). */
  readonly header: string;
}

/** Parses a key spec (`ip` or `header:<name>`). why: once at construction so a request does no string slicing. */
export function keySpec(spec: string | null): KeySpec | null {
  if (spec === null) return null;
  return spec === 'ip' ? { ip: true, header: '' } : { ip: false, header: spec.slice('header:'.length) };
}

/** The request's value for a key spec, undefined when absent. */
export function keyValue(ctx: RequestContext, spec: KeySpec | null): string | undefined {
  if (spec === null) return undefined;
  if (spec.ip) return ctx.clientIp;
  const v = ctx.header(spec.header);
  return v === '' ? undefined : v;
}
