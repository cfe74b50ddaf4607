
/**
 * What the router may read off a request besides method, host and path.
 * The ingress request context implements it (no closure per request).
 */
export interface RequestLookup {
  /** Header value by lower-case name; '' when absent. */
  header(name: string): string;
  /** First query parameter value by name, decoded; undefined when absent. */
  queryParam(name: string): string | undefined;
}
