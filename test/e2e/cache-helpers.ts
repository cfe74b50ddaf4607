/**
 * Helpers of the response-cache end-to-end tests: a gateway worker in this
 * process with its own metrics registry, requests through node:http, and
 * metric samples.
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { Registry } from 'prom-client';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import type { GatewayConfig } from '../../src/config/types.js';
import type { PolicyFactory } from '../../src/policies/types.js';
import { configFromYaml, nodeRequest, type TestGateway } from './helpers.js';

/** A test gateway with its metrics registry. */
export interface CacheGateway extends TestGateway {
  registry: Registry;
  /** The value of one series, e.g. `turnpike_cache_requests_total{policy="c",result="hit"}` (0 when absent). */
  metric(series: string): Promise<number>;
}

/**
 * Starts one gateway worker in this process (metrics in a registry of its
 * own); `prepare` may edit the parsed config (e.g. add test policies, with
 * their kinds in `factories`).
 */
export async function startCacheGateway(
  yaml: string, prepare?: (config: GatewayConfig) => void, factories?: readonly PolicyFactory[],
): Promise<CacheGateway> {
  const registry = new Registry();
  const config = configFromYaml(yaml);
  prepare?.(config);
  const worker = await startWorker(config, { metricsRegistry: registry, policyFactories: factories });
  return {
    worker, registry, port: worker.port, base: `http://127.0.0.1:${worker.port}`,
    close: async () => { await worker.drain(1000); },
    async metric(series: string): Promise<number> {
      const text = await registry.metrics();
      for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
      return 0;
    },
  };
}

/** One response. */
export interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

/** A request on a fresh connection. */
export function send(port: number, path: string, headers: OutgoingHttpHeaders = {}, method = 'GET', body?: string): Promise<Reply> {
  return nodeRequest(port, path, headers, method, body);
}

/** Polls `check` every 20 ms until it is true; throws after `ms`. */
export async function eventually(what: string, check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out waiting until ' + what);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `series` of turnpike_cache_requests_total for one policy and result. */
export function results(policy: string, result: string): string {
  return `turnpike_cache_requests_total{policy="${policy}",result="${result}"}`;
}
