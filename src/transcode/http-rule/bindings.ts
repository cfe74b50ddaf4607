/**
 * HTTP bindings of gRPC methods: read from the `(google.api.http)` method
 * option (google/api/annotations.proto) or given in config form, validated
 * against the request/response types.
 *
 * How protobufjs exposes the option (7.x, parsed from .proto text):
 * `method.parsedOptions` is an array of single-key objects; the rule is
 * `{ '(google.api.http)': { get: '/v1/..', body: '*', custom: { kind, path },
 * additional_bindings: {..} | [{..}, {..}] } }` with proto field names as
 * keys. A repeated field written once is a plain object, written several
 * times an array. `option (google.api.http).get = "..."` statements are merged
 * into the same object. `method.options` only holds flattened
 * `(google.api.http).get` keys and loses repeated blocks, so it is not used.
 */
import protobuf from 'protobufjs';
import { HttpRuleError } from './errors.js';
import { findField, isScalarLike, resolveFieldPath } from './field-paths.js';
import { parsePathTemplate, templateShape, type PathTemplate } from './path-template.js';
import { toRouterRoute, type RouterRoute } from './router-route.js';

/** One HTTP route of one gRPC method. */
export interface HttpBinding {
  /** Service full name without leading dot, e.g. `example.library.v1.LibraryService`. */
  readonly service: string;
  /** The rpc name, e.g. `GetBook`. */
  readonly method: string;
  /** gRPC path, e.g. `/example.library.v1.LibraryService/GetBook`. */
  readonly fullPath: string;
  /** `GET`, `PUT`, `POST`, `DELETE`, `PATCH`, or a custom kind exactly as given (`MOVE`, `*`). */
  readonly httpMethod: string;
  readonly template: PathTemplate;
  /** The template compiled for Turnpike's router. */
  readonly route: RouterRoute;
  /** '' (no body), '*' (whole message) or a top-level request field (proto name). */
  readonly body: string;
  /** '' (whole response) or a top-level response field (proto name). */
  readonly responseBody: string;
  readonly requestType: protobuf.Type;
  readonly responseType: protobuf.Type;
  readonly serverStreaming: boolean;
  readonly clientStreaming: boolean;
  /** Where the binding came from. */
  readonly source: 'annotation' | 'config';
}

/** A binding declared in the gateway config for a method without annotations. */
export interface ConfigHttpRule {
  /** `pkg.Service/Method` (a leading '/' is accepted). */
  readonly rpc: string;
  /** HTTP method; get/put/post/delete/patch in any case are upper-cased, anything else is a custom kind kept as given. */
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly responseBody?: string;
}

const STANDARD_KINDS = ['get', 'put', 'post', 'delete', 'patch'] as const;
const HTTP_OPTION = '(google.api.http)';

/** A rule before validation. */
interface RawRule {
  readonly httpMethod: string;
  readonly path: string;
  readonly body: string;
  readonly responseBody: string;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The merged `(google.api.http)` option of a method, or null when it has none. */
function httpOption(method: protobuf.Method): Record<string, unknown> | null {
  const parsed: unknown = method.parsedOptions;
  const entries: unknown[] = Array.isArray(parsed) ? parsed : parsed === undefined || parsed === null ? [] : [parsed];
  let found: Record<string, unknown> | null = null;
  for (const e of entries) {
    if (isRecord(e) && isRecord(e[HTTP_OPTION])) found = { ...(found ?? {}), ...e[HTTP_OPTION] };
  }
  return found;
}

function optionalString(rule: Record<string, unknown>, key: string, where: string): string {
  const v = rule[key];
  if (v === undefined) return '';
  if (typeof v !== 'string') throw new HttpRuleError('invalid_http_rule', `${where}: "${key}" must be a single string`);
  return v;
}

/** Flattens one HttpRule object (and its additional_bindings) into raw rules. */
function rawRules(rule: Record<string, unknown>, where: string, nested: boolean): RawRule[] {
  const kinds = STANDARD_KINDS.filter((k) => rule[k] !== undefined);
  const custom = rule['custom'];
  const set = [...kinds, ...(custom === undefined ? [] : ['custom'])];
  if (set.length === 0) throw new HttpRuleError('invalid_http_rule', `${where}: no pattern (get, put, post, delete, patch or custom)`);
  if (set.length > 1) throw new HttpRuleError('invalid_http_rule', `${where}: more than one pattern (${set.join(', ')})`);
  let httpMethod: string;
  let path: string;
  if (kinds.length === 1) {
    httpMethod = kinds[0].toUpperCase();
    path = optionalString(rule, kinds[0], where);
  } else {
    if (!isRecord(custom)) throw new HttpRuleError('invalid_http_rule', `${where}: "custom" must be one { kind, path } block`);
    httpMethod = optionalString(custom, 'kind', where);
    path = optionalString(custom, 'path', where);
    if (httpMethod.length === 0) throw new HttpRuleError('invalid_http_rule', `${where}: custom pattern without "kind"`);
  }
  const out: RawRule[] = [{ httpMethod, path, body: optionalString(rule, 'body', where), responseBody: optionalString(rule, 'response_body', where) }];
  const extra = rule['additional_bindings'];
  if (extra !== undefined) {
    if (nested) throw new HttpRuleError('invalid_http_rule', `${where}: additional_bindings must not contain additional_bindings`);
    const list = Array.isArray(extra) ? extra : [extra];
    list.forEach((b, i) => {
      if (!isRecord(b)) throw new HttpRuleError('invalid_http_rule', `${where}: additional_bindings[${i}] is not a rule`);
      out.push(...rawRules(b, `${where} additional_bindings[${i}]`, true));
    });
  }
  return out;
}

function topLevelField(type: protobuf.Type, name: string, what: string, where: string): void {
  if (name.includes('.')) throw new HttpRuleError('invalid_http_rule', `${where}: ${what} "${name}" must be a top-level field of ${type.fullName.slice(1)}`);
  if (findField(type, name, false) === null) throw new HttpRuleError('invalid_http_rule', `${where}: ${what} "${name}": no field "${name}" in ${type.fullName.slice(1)}`);
}

/** Validates a raw rule against the method and builds the binding. */
function makeBinding(service: protobuf.Service, method: protobuf.Method, raw: RawRule, source: HttpBinding['source']): HttpBinding {
  method.resolve();
  const serviceName = service.fullName.slice(1);
  const fullPath = `/${serviceName}/${method.name}`;
  const where = `rpc ${serviceName}/${method.name} (${raw.httpMethod} ${raw.path})`;
  if (method.requestStream === true) {
    throw new HttpRuleError('invalid_http_rule', `${where}: client-streaming methods cannot be transcoded`);
  }
  const requestType = method.resolvedRequestType;
  const responseType = method.resolvedResponseType;
  if (requestType === null || responseType === null) throw new HttpRuleError('invalid_http_rule', `${where}: request or response type is unresolved`);
  let template: PathTemplate;
  try {
    template = parsePathTemplate(raw.path);
  } catch (err) {
    throw new HttpRuleError('invalid_http_rule', `${where}: ${(err as Error).message}`, { cause: err });
  }
  if ((raw.httpMethod === 'GET' || raw.httpMethod === 'DELETE') && raw.body !== '') {
    throw new HttpRuleError('invalid_http_rule', `${where}: ${raw.httpMethod} cannot have a body (body: "${raw.body}")`);
  }
  for (const v of template.variables) {
    const r = resolveFieldPath(requestType, v.fieldPath, false);
    if (r.error !== undefined) throw new HttpRuleError('invalid_http_rule', `${where}: path variable {${v.fieldPath}}: ${r.error}`);
    const leaf = r.fields[r.fields.length - 1];
    if (leaf.repeated || leaf.map || !isScalarLike(leaf)) {
      const what = leaf.map ? 'a map' : leaf.repeated ? 'repeated' : 'a message';
      throw new HttpRuleError('invalid_http_rule', `${where}: path variable {${v.fieldPath}} is ${what} field; it must be a singular primitive`);
    }
  }
  if (raw.body !== '' && raw.body !== '*') topLevelField(requestType, raw.body, 'body', where);
  if (raw.responseBody !== '') topLevelField(responseType, raw.responseBody, 'response_body', where);
  return {
    service: serviceName,
    method: method.name,
    fullPath,
    httpMethod: raw.httpMethod,
    template,
    route: toRouterRoute(template),
    body: raw.body,
    responseBody: raw.responseBody,
    requestType,
    responseType,
    serverStreaming: method.responseStream === true,
    clientStreaming: false, // client-streaming methods were rejected above
    source,
  };
}

function lookupService(root: protobuf.Root, name: string): protobuf.Service {
  const found = root.lookup(name.startsWith('.') ? name : `.${name}`);
  if (!(found instanceof protobuf.Service)) throw new HttpRuleError('unknown_service', `service "${name}" is not defined in the loaded protos`);
  return found;
}

/**
 * Throws when two bindings answer the same HTTP method and path shape (variable
 * names do not matter: `/v1/{a}` and `/v1/{b=*}` collide). Call it on the
 * combined annotation + config list.
 * @throws HttpRuleError `invalid_http_rule` naming both rpcs.
 */
export function assertUniqueBindings(bindings: readonly HttpBinding[]): void {
  const seen = new Map<string, HttpBinding>();
  for (const b of bindings) {
    const key = `${b.httpMethod} ${templateShape(b.template)}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw new HttpRuleError(
        'invalid_http_rule',
        `duplicate HTTP route ${key}: rpc ${first.service}/${first.method} (${first.template.source}) and rpc ${b.service}/${b.method} (${b.template.source})`,
      );
    }
    seen.set(key, b);
  }
}

/**
 * Every binding declared by `(google.api.http)` options of the methods of the
 * given services (full names, e.g. `example.library.v1.LibraryService`), the
 * primary rule of each method first, then its additional_bindings in order.
 * Methods without the option are skipped (see {@link configBinding}).
 * @throws HttpRuleError `unknown_service`, or `invalid_http_rule` naming the rpc
 *   (client streaming, body on GET/DELETE, unknown field in a variable/body/
 *   response_body, bad template, duplicate method+path).
 */
export function httpBindings(root: protobuf.Root, serviceFullNames: readonly string[]): HttpBinding[] {
  const out: HttpBinding[] = [];
  for (const name of serviceFullNames) {
    const service = lookupService(root, name);
    for (const method of service.methodsArray) {
      const option = httpOption(method);
      if (option === null) continue;
      const where = `rpc ${service.fullName.slice(1)}/${method.name}`;
      for (const raw of rawRules(option, where, false)) out.push(makeBinding(service, method, raw, 'annotation'));
    }
  }
  assertUniqueBindings(out);
  return out;
}

/**
 * A binding from config form, e.g. `{ rpc: 'pkg.Svc/Method', method: 'POST',
 * path: '/v1/echo', body: '*' }`, validated like an annotation.
 * @throws HttpRuleError `unknown_service`, `unknown_rpc` or `invalid_http_rule`.
 */
export function configBinding(root: protobuf.Root, rule: ConfigHttpRule): HttpBinding {
  const rpc = rule.rpc.startsWith('/') ? rule.rpc.slice(1) : rule.rpc;
  const slash = rpc.lastIndexOf('/');
  if (slash <= 0 || slash === rpc.length - 1) {
    throw new HttpRuleError('invalid_http_rule', `rpc "${rule.rpc}" must be written "package.Service/Method"`);
  }
  const service = lookupService(root, rpc.slice(0, slash));
  const method = service.methods[rpc.slice(slash + 1)] as protobuf.Method | undefined;
  if (method === undefined) throw new HttpRuleError('unknown_rpc', `rpc "${rule.rpc}": service ${rpc.slice(0, slash)} has no method "${rpc.slice(slash + 1)}"`);
  if (rule.method.length === 0) throw new HttpRuleError('invalid_http_rule', `rpc "${rule.rpc}": empty HTTP method`);
  const lower = rule.method.toLowerCase();
  const httpMethod = (STANDARD_KINDS as readonly string[]).includes(lower) ? lower.toUpperCase() : rule.method;
  return makeBinding(service, method, { httpMethod, path: rule.path, body: rule.body ?? '', responseBody: rule.responseBody ?? '' }, 'config');
}
