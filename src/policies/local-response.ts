/**
 * A response a policy answers itself, without the terminal (a CORS
 * preflight, a cached answer, a mock). A class, so the runner tells it from
 * a GatewayError with one `instanceof`.
 */
export class LocalResponse {
  /**
   * @param status HTTP status (100-599).
   * @param headers flat `[name, value, ...]` list, lower-case names; the
   *   writer adds `x-request-id` and the headers policies added to the context.
   * @param body the body ('' or an empty Buffer for none; never sent for HEAD, 204 or 304).
   * @param bodyPhase the answer stands for an upstream response (a cached
   *   one): it goes through the route's responseBody phase like the upstream
   *   response would (other local answers skip that phase).
   */
  constructor(
    readonly status: number,
    readonly headers: readonly string[] = [],
    readonly body: string | Buffer = '',
    readonly bodyPhase = false,
  ) {}
}
