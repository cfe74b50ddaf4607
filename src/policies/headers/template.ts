/**
 * Header value templates: `"${client_ip}"`, `"v1; route=${route}"`. A
 * template is compiled once, when its policy instance is built, into parallel
 * arrays of part codes and arguments; per request only a plain loop over
 * them runs (no parsing, no regex, no closure).
 */
import type { RequestContext } from '../../ingress/request-context.js';
import { hasControlChar, isAscii, safeFieldValue } from './field-value.js';

/** What one part of a template produces. */
export const enum Part {
  Literal = 0,
  ClientIp = 1,
  Route = 2,
  RequestId = 3,
  Method = 4,
  Path = 5,
  Param = 6,
  Query = 7,
  Header = 8,
  ConsumerId = 9,
  ConsumerUsername = 10,
}

/** The variables without an argument, by name. */
const SIMPLE: Readonly<Record<string, Part>> = {
  client_ip: Part.ClientIp,
  route: Part.Route,
  request_id: Part.RequestId,
  method: Part.Method,
  path: Part.Path,
  'consumer.id': Part.ConsumerId,
  'consumer.username': Part.ConsumerUsername,
};

/** The variables that take a name after a dot. */
const NAMED: Readonly<Record<string, Part>> = { param: Part.Param, query: Part.Query, header: Part.Header };

/** Every variable, for messages. */
export const TEMPLATE_VARIABLES = 'client_ip, route, request_id, method, path, param.NAME, query.NAME, header.NAME, consumer.id, consumer.username';

const PARAM_NAME = /^(?:[A-Za-z_][A-Za-z0-9_]*|\*)$/;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** A compiled header value template. */
export interface Template {
  /** The text as configured. */
  readonly source: string;
  /** The whole value when the template has no variable (null otherwise). */
  readonly constant: string | null;
  /** Code of each part ({@link Part}). */
  readonly codes: Uint8Array;
  /** Per part: the literal text, or the variable's name argument ('' when none). */
  readonly args: readonly string[];
}

/** A template that does not compile: `message` says why (for a config issue). */
export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

/**
 * Parses `source` into a {@link Template}. `$${` is a literal `${`; any other
 * `$` is literal. Throws {@link TemplateError} on an unknown variable, an
 * empty or unclosed `${`, a bad name argument, a control character or a
 * non-ASCII character in the literal text (with `anyText`, for text that
 * is not a header value such as a JSON string, the literal text may hold
 * any character).
 */
export function compileTemplate(source: string, anyText = false): Template {
  if (!anyText && hasControlChar(source)) throw new TemplateError('must not contain control characters (CR, LF, NUL, ...)');
  const codes: Part[] = [];
  const args: string[] = [];
  let literal = '';
  let i = 0;
  while (i < source.length) {
    const at = source.indexOf('$', i);
    if (at < 0) { literal += source.slice(i); break; }
    literal += source.slice(i, at);
    if (source.startsWith('$${', at)) { literal += '${'; i = at + 3; continue; }
    if (source[at + 1] !== '{') { literal += '$'; i = at + 1; continue; }
    const end = source.indexOf('}', at + 2);
    if (end < 0) throw new TemplateError(`unclosed "\${" at character ${at + 1} (write $\${ for a literal "\${")`);
    const [code, arg] = parseVariable(source.slice(at + 2, end));
    if (literal !== '') { codes.push(Part.Literal); args.push(anyText ? literal : checkLiteral(literal)); literal = ''; }
    codes.push(code);
    args.push(arg);
    i = end + 1;
  }
  if (literal !== '') { codes.push(Part.Literal); args.push(anyText ? literal : checkLiteral(literal)); }
  const constant = codes.every((c) => c === Part.Literal) ? args.join('') : null;
  return { source, constant, codes: Uint8Array.from(codes), args };
}

/** Literal text must be US-ASCII (RFC 9110 §5.5: new fields use visible US-ASCII). */
function checkLiteral(text: string): string {
  if (!isAscii(text)) throw new TemplateError('literal text must be US-ASCII (write non-ASCII text percent-encoded, e.g. caf%C3%A9)');
  return text;
}

/** `client_ip` → [ClientIp, '']; `header.X-Team` → [Header, 'x-team']. */
function parseVariable(text: string): [Part, string] {
  if (text === '') throw new TemplateError('empty variable "${}" (known: ' + TEMPLATE_VARIABLES + ')');
  const simple = Object.hasOwn(SIMPLE, text) ? SIMPLE[text] : undefined;
  if (simple !== undefined) return [simple, ''];
  const dot = text.indexOf('.');
  const kind = dot < 0 ? text : text.slice(0, dot);
  const named = Object.hasOwn(NAMED, kind) ? NAMED[kind] : undefined;
  if (named === undefined) throw new TemplateError(`unknown variable "\${${text}}" (known: ${TEMPLATE_VARIABLES})`);
  const name = dot < 0 ? '' : text.slice(dot + 1);
  if (name === '') throw new TemplateError(`"\${${kind}.NAME}" needs a name, e.g. "\${${kind}.${kind === 'param' ? 'id' : kind === 'query' ? 'page' : 'x-team'}}"`);
  if (named === Part.Param && !PARAM_NAME.test(name)) throw new TemplateError(`"\${${text}}": a path param name is like :id ([A-Za-z_][A-Za-z0-9_]*) or *`);
  if (named === Part.Header && !TOKEN.test(name)) throw new TemplateError(`"\${${text}}": not a valid header name (RFC 9110 token)`);
  if (named === Part.Query && hasControlChar(name)) throw new TemplateError(`"\${${text}}": not a valid query parameter name`);
  return [named, named === Part.Header ? name.toLowerCase() : name];
}

/** The names of the path params a template reads (for load-time checks). */
export function templateParams(t: Template): string[] {
  const out: string[] = [];
  for (let i = 0; i < t.codes.length; i++) if (t.codes[i] === Part.Param) out.push(t.args[i]);
  return out;
}

/**
 * The value of `t` for one request: literals as compiled, each variable's
 * value made field-safe ({@link safeFieldValue}: controls stripped,
 * non-ASCII percent-encoded); absent values are ''.
 */
export function renderTemplate(t: Template, ctx: RequestContext): string {
  if (t.constant !== null) return t.constant;
  const codes = t.codes;
  const args = t.args;
  let out = '';
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    out += code === Part.Literal ? args[i] : safeFieldValue(variable(code, args[i], ctx));
  }
  return out;
}

/**
 * The value of `t` for one request with the variables' raw values (not made
 * field-safe): for text that is not a header value, e.g. a JSON string the
 * transform kind sets.
 */
export function renderTemplateRaw(t: Template, ctx: RequestContext): string {
  if (t.constant !== null) return t.constant;
  const codes = t.codes;
  const args = t.args;
  let out = '';
  for (let i = 0; i < codes.length; i++) out += codes[i] === Part.Literal ? args[i] : variable(codes[i], args[i], ctx);
  return out;
}

/** One variable's raw value ('' when absent). */
function variable(code: number, arg: string, ctx: RequestContext): string {
  switch (code) {
    case Part.ClientIp: return ctx.clientIp;
    case Part.Route: return ctx.route === null ? '' : ctx.route.name;
    case Part.RequestId: return ctx.requestId;
    case Part.Method: return ctx.method;
    case Part.Path: return ctx.path;
    case Part.Param: return paramValue(ctx, arg);
    case Part.Query: return ctx.queryParam(arg) ?? '';
    case Part.Header: return ctx.header(arg);
    case Part.ConsumerId: return ctx.consumer === null ? '' : ctx.consumer.id;
    case Part.ConsumerUsername: return ctx.consumer === null ? '' : ctx.consumer.username;
    default: return '';
  }
}

/** The matched route's path param `name` ('' when the route has none of that name). */
function paramValue(ctx: RequestContext, name: string): string {
  const route = ctx.route;
  if (route === null) return '';
  // why: a route has a handful of params; a plain scan beats a per-route map.
  const names = route.paramNames;
  for (let i = 0; i < names.length; i++) if (names[i] === name) return ctx.params[i] ?? '';
  return '';
}
