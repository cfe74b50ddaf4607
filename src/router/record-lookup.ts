/**
 * A {@link RequestLookup} over plain data (a header record and a raw query
 * string), for `turnpike explain`, tests and benchmarks. Not for the request
 * hot path: the ingress context implements RequestLookup directly.
 */
import type { RequestLookup } from './types.js';

/** RequestLookup backed by a header record and a parsed query string. */
export class RecordLookup implements RequestLookup {
  private readonly headers: Map<string, string>;
  private readonly query: URLSearchParams;

  /**
   * @param headers header values by name (any case; names are lower-cased)
   * @param query raw query string, with or without the leading `?`
   */
  constructor(headers: Record<string, string> = {}, query = '') {
    this.headers = new Map(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
    this.query = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  }

  /** Header value by lower-case name; '' when absent. */
  header(name: string): string {
    return this.headers.get(name) ?? '';
  }

  /** First value of a query parameter, decoded; undefined when absent. */
  queryParam(name: string): string | undefined {
    return this.query.get(name) ?? undefined;
  }
}
