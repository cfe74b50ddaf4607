/**
 * Errors of the google.api.HttpRule layer. Every error carries a stable
 * `code`; messages name the rpc, template, field or parameter at fault.
 */

/** Stable codes of {@link HttpRuleError}. */
export type HttpRuleErrorCode =
  /** A path template does not follow the HttpRule grammar (see {@link PathTemplateError}). */
  | 'invalid_path_template'
  /** An annotation or config rule is unusable (unknown field, body on GET, duplicate route, ...). */
  | 'invalid_http_rule'
  /** A service named in the config is not in the loaded protos. */
  | 'unknown_service'
  /** A config rule names an rpc that does not exist. */
  | 'unknown_rpc'
  /** A query parameter names no field of the request message. */
  | 'unknown_query_parameter'
  /** A query parameter names a field that cannot be set from the query, or is repeated illegally. */
  | 'invalid_query_parameter'
  /** A path variable value is unusable (bad percent-encoding, not a boolean for a bool field). */
  | 'invalid_path_parameter'
  /** The JSON body cannot be merged (body "*" needs a JSON object). */
  | 'invalid_body';

/** An HttpRule configuration or request-mapping failure. */
export class HttpRuleError extends Error {
  readonly code: HttpRuleErrorCode;

  constructor(code: HttpRuleErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HttpRuleError';
    this.code = code;
  }
}

/** A path template that does not parse; `position` is the 0-based offset of the fault. */
export class PathTemplateError extends HttpRuleError {
  readonly template: string;
  readonly position: number;

  constructor(template: string, position: number, problem: string) {
    super('invalid_path_template', `path template "${template}": ${problem} at position ${position}`);
    this.name = 'PathTemplateError';
    this.template = template;
    this.position = position;
  }
}
