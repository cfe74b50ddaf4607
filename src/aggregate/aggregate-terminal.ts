/**
 * The `aggregate` terminal: answers a route's request with one JSON
 * document built from several upstream calls (see aggregate-run.ts). One
 * per worker, built only when some route has `aggregate`; its plans are
 * compiled at worker start.
 */
import type { Readable } from 'node:stream';
import type { Registry } from 'prom-client';
import type { GatewayConfig } from '../config/types.js';
import type { RequestContext } from '../ingress/request-context.js';
import type { Terminal } from '../terminals/terminal.js';
import type { UpstreamClient } from '../upstream/upstream-client.js';
import { aggregateMetrics } from './aggregate-metrics.js';
import { compileAggregate, type AggregatePlan } from './aggregate-plan.js';
import { AggregateRun, type AggregateSink } from './aggregate-run.js';

/** See the file comment. */
export class AggregateTerminal implements Terminal {
  readonly needsWholeBody = false;
  /** Per route index: its compiled aggregate (null on other routes). */
  private readonly plans: ReadonlyArray<AggregatePlan | null>;

  /**
   * @param paramNames per route index, the capture names the router compiled
   */
  constructor(config: GatewayConfig, private readonly client: UpstreamClient, private readonly sink: AggregateSink,
    registry: Registry, paramNames: ReadonlyArray<readonly string[]>) {
    const metrics = aggregateMetrics(registry);
    this.plans = config.routes.map((r) => (r.aggregate === undefined ? null
      : compileAggregate(config, r, r.aggregate, paramNames[r.index], metrics)));
  }

  start(ctx: RequestContext, body: Buffer | Readable | null): void {
    // The calls carry no body: a request body is ignored (one not read to its end closes the connection after the answer).
    void body;
    new AggregateRun(ctx, this.plans[ctx.routeIndex]!, this.client, this.sink).begin();
  }
}

/** Whether any route of `config` aggregates (the terminal is built only then). */
export function hasAggregateRoutes(config: GatewayConfig): boolean {
  return config.routes.some((r) => r.aggregate !== undefined);
}
