/**
 * Cache keys. The primary key is the configured parts joined by single
 * spaces in the configured order (`GET api.example.com /catalog/1 lang=en`),
 * so a key prefix is also a prefix of the leading parts (with `key: [path]`
 * a key prefix is a path prefix). Parts:
 * - `method`: the request method, HEAD as GET (HEAD is answered from GET entries);
 * - `host`: the Host header, lower-cased;
 * - `path`: the raw path; `query`: the raw query string without `?` ('' when none);
 * - `consumer`: the id of the consumer an identity policy earlier in the
 *   route's chain identified ('' when none);
 * - `header:<name>`: the header's values joined with ', ' ('' when absent).
 *   `authorization`, `proxy-authorization` and `cookie` enter as
 *   `sha256:<22 base64url chars>` of the value, so credentials never appear
 *   in keys, Redis index entries or purge output.
 * Header and host values have `%` and space percent-encoded, so a value
 * cannot imitate a part boundary (two different requests never share a key).
 *
 * Entries of a response with `Vary` live under a secondary key: the primary
 * key, a newline and the epoch of the key's Vary marker, then for each varied
 * header a newline and the request's values (header values cannot hold a
 * newline, so this is unambiguous too).
 */
import { createHash } from 'node:crypto';
import type { RequestContext } from '../../ingress/request-context.js';

const METHOD = 0;
const HOST = 1;
const PATH = 2;
const QUERY = 3;
const CONSUMER = 4;
const HEADER = 5;

/** Headers whose values enter keys only as a digest. */
const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie']);

interface Part {
  readonly kind: number;
  /** Lower-case header name (HEADER parts). */
  readonly header: string;
  readonly secret: boolean;
}

/** A compiled key spec (parsed once per policy). */
export class CacheKey {
  private readonly parts: readonly Part[];

  /** @param spec the config's `key` list (schema-valid). */
  constructor(spec: readonly string[]) {
    this.parts = spec.map((p) => {
      if (p.startsWith('header:')) {
        const header = p.slice(7).toLowerCase();
        return { kind: HEADER, header, secret: SECRET_HEADERS.has(header) };
      }
      const kind = p === 'method' ? METHOD : p === 'host' ? HOST : p === 'path' ? PATH : p === 'query' ? QUERY : CONSUMER;
      return { kind, header: '', secret: false };
    });
  }

  /**
   * The request's primary key. `method` overrides the request's method
   * (invalidation after an unsafe request looks up the GET entry).
   */
  build(ctx: RequestContext, method: string = ctx.method): string {
    const parts = this.parts;
    let out = '';
    // why: a plain loop over precompiled parts; only configured parts are read.
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      let v: string;
      switch (p.kind) {
        case METHOD: v = method === 'HEAD' ? 'GET' : method; break;
        case HOST: v = escapePart(ctx.rawHost.toLowerCase()); break;
        case PATH: v = ctx.path; break;
        case QUERY: v = ctx.query; break;
        case CONSUMER: v = ctx.consumer === null ? '' : escapePart(ctx.consumer.id); break;
        default: {
          const raw = requestHeader(ctx, p.header);
          v = p.secret && raw !== '' ? digest(raw) : escapePart(raw);
        }
      }
      out = i === 0 ? v : out + ' ' + v;
    }
    return out;
  }
}

/** `%` and space percent-encoded (values are rarely affected: checked first). */
export function escapePart(v: string): string {
  if (v.indexOf(' ') < 0 && v.indexOf('%') < 0) return v;
  return v.replaceAll('%', '%25').replaceAll(' ', '%20');
}

function digest(v: string): string {
  return 'sha256:' + createHash('sha256').update(v).digest('base64url').slice(0, 22);
}

/** Every value of a request header (lower-case name), joined with ', ' ('' when absent). */
export function requestHeader(ctx: RequestContext, name: string): string {
  return joinedValues(ctx.headerNames, ctx.headerValues, name);
}

/** Every value of header `name` in index-aligned name/value lists, joined with ', ' ('' when absent). */
function joinedValues(names: readonly string[], values: readonly string[], name: string): string {
  let out = '';
  let found = false;
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== name) continue;
    out = found ? out + ', ' + values[i] : values[i];
    found = true;
  }
  return out;
}

/**
 * The secondary part of a varied entry's key: the request's values of the
 * `names` headers (trimmed; '' when absent), each after a newline.
 * `lookup` reads a header (the live request, or a snapshot of it).
 */
export function varyKey(names: readonly string[], lookup: (name: string) => string): string {
  let out = '';
  for (let i = 0; i < names.length; i++) out += '\n' + lookup(names[i]).trim();
  return out;
}

/** The store key of a variant: the primary key, its marker's epoch, the Vary values (varyKey). */
export function variantKey(key: string, epoch: string, varyValues: string): string {
  return key + '\n' + epoch + varyValues;
}

/** A header lookup on a live request (all values joined). */
export function contextLookup(ctx: RequestContext): (name: string) => string {
  return (name) => requestHeader(ctx, name);
}

/** A header lookup on a copy of a request's headers (for work after the request ended). */
export function snapshotLookup(ctx: RequestContext): (name: string) => string {
  const names = ctx.headerNames.slice();
  const values = ctx.headerValues.slice();
  return (name) => joinedValues(names, values, name);
}
