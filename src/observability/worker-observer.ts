import type { GatewayConfig } from '../config/types.js';
import type { RequestObserver } from '../ingress/request-handler.js';
import type { Logger } from './logger.js';
import type { ConsumerRecorder } from './consumer-metrics.js';
import { createConsumerMetrics, createRequestMetrics, workerMetrics, type RequestMetrics, type WorkerMetrics } from './metrics.js';
import type { ResilienceListener } from '../upstream/resilience/resilience-listener.js';
import type { CircuitStateName } from '../upstream/resilience/circuit-breaker.js';

/**
 * The worker's observability hooks: request metrics (by route, method,
 * status, latency), upstream error counts, and target health as metrics and
 * log lines. Policies and the request path call these; nothing else logs.
 */
export class WorkerObserver implements RequestObserver, ResilienceListener {
  private readonly requests: RequestMetrics;
  private readonly consumers: ConsumerRecorder;
  private readonly metrics: WorkerMetrics;
  private readonly logger: Logger | null;

  constructor(config: GatewayConfig, logger: Logger | null, metrics: WorkerMetrics = workerMetrics()) {
    this.metrics = metrics;
    this.logger = logger;
    const routeNames = config.routes.map((r) => r.name);
    this.requests = createRequestMetrics(routeNames, metrics);
    this.consumers = createConsumerMetrics(routeNames, (config.consumers ?? []).map((c) => c.id), metrics);
    for (const [name, upstream] of Object.entries(config.upstreams)) {
      for (const t of upstream.targets) metrics.targetAvailable.set({ upstream: name, target: t.url }, 1);
    }
  }

  observe(routeIndex: number, method: string, status: number, seconds: number): void {
    this.requests.observe(routeIndex, method, status, seconds);
  }

  /** A finished request of an identified consumer (its id, never its credential). */
  observeConsumer(routeIndex: number, consumerId: string): void {
    this.consumers.observe(routeIndex, consumerId);
  }

  upstreamError(upstream: string, kind: string): void {
    this.metrics.upstreamErrors.inc({ upstream, kind });
  }

  upstreamRetry(upstream: string, reason: string): void {
    this.metrics.upstreamRetries.inc({ upstream, reason });
  }

  retryBudgetExhausted(upstream: string): void {
    this.metrics.retryBudgetExhausted.inc({ upstream });
  }

  /** A circuit breaker changed state: warn when it opens, info otherwise. */
  circuitTransition(upstream: string, from: CircuitStateName, to: CircuitStateName, reason: string): void {
    if (this.logger !== null) this.logger[to === 'open' ? 'warn' : 'info']({ upstream, from, to, reason }, 'circuit ' + to);
  }

  /** An upstream entered (warn) or left (info) panic mode. */
  panic(upstream: string, panic: boolean, available: number, total: number): void {
    if (this.logger === null) return;
    if (panic) this.logger.warn({ upstream, available, total }, 'panic mode: too few healthy targets, sending to all of them');
    else this.logger.info({ upstream, available, total }, 'panic mode over');
  }

  /** Service discovery added or removed targets: their availability series appear (1) or go. */
  targetsChanged(upstream: string, added: readonly string[], removed: readonly string[]): void {
    for (const target of added) this.metrics.targetAvailable.set({ upstream, target }, 1);
    for (const target of removed) this.metrics.targetAvailable.remove({ upstream, target });
  }

  /** A target became available or unavailable (active check or passive ejection). */
  targetHealth(upstream: string, target: string, available: boolean, reason: string): void {
    this.metrics.targetAvailable.set({ upstream, target }, available ? 1 : 0);
    if (this.logger !== null) {
      this.logger[available ? 'info' : 'warn']({ upstream, target, reason }, available ? 'target available' : 'target unavailable');
    }
  }
}
