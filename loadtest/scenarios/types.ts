/**
 * What a load-test scenario is: its upstream, its gateway config (a template
 * under config/loadtest/), the requests the generator cycles through, and a
 * check that a response is what the scenario expects.
 */

/** The upstream's GET body: 60 bytes of JSON (the same as the native bench's origin). */
export const UPSTREAM_JSON = '{"ok":true,"service":"bench-origin","items":[1,2,3],"v":"1"}';

/** One request the generator sends (the list is cycled in order). */
export interface ScenarioRequest {
  method: 'GET' | 'POST';
  /** Path + query on the gateway. */
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

/** A load-test scenario. Scenarios are registered in `index.ts`. */
export interface Scenario {
  /** Short id used on the command line (`--scenario passthrough`). */
  name: string;
  /** One line for reports. */
  description: string;
  /** Gateway config template in config/loadtest/, placeholders {{PORT}}, {{ADMIN_PORT}}, {{UPSTREAM_PORT}}. */
  configFile: string;
  /** Delay the upstream adds to every response, ms. */
  upstreamDelayMs: number;
  /** The upstream: the uWS HTTP server (default) or the example gRPC LibraryService. */
  upstreamKind?: 'http' | 'grpc';
  /** Default closed-loop connections. */
  connections: number;
  /** Open-loop connections (default 64); at least rate × response time, or requests queue in the generator. */
  openConnections?: number;
  /** Default open-loop arrival rates, req/s (the first is used when one rate is wanted). */
  rates: number[];
  /**
   * The gateway terminates TLS: the run makes a CA, a server and a client
   * certificate in its run directory (config placeholders {{TLS_CERT}},
   * {{TLS_KEY}}, {{TLS_CLIENT_CA}}) and both generators send https over
   * keep-alive connections; `mtls` also presents the client certificate.
   */
  tls?: 'tls' | 'mtls';
  /** The requests, cycled in order by both generators. */
  requests(): ScenarioRequest[];
  /** Null when a 2xx response body for `req` is right, else what is wrong. */
  verify(req: ScenarioRequest, status: number, body: Buffer): string | null;
}

/** Checks the upstream's tiny JSON came back with 200. */
export function verifyTinyJson(_req: ScenarioRequest, status: number, body: Buffer): string | null {
  if (status !== 200) return `status ${status}, expected 200`;
  const text = body.toString('utf8');
  return text === UPSTREAM_JSON ? null : `body ${JSON.stringify(text.slice(0, 80))} is not the upstream's JSON`;
}
