/** `slow-upstream`: the upstream takes 50 ms; the gateway must hold many requests in flight cheaply. */
import { verifyTinyJson, type Scenario } from './types.js';

/** GET with a 50 ms upstream: throughput is connections / 50 ms, latency ≈ 50 ms + the gateway's share. */
export const slowUpstream: Scenario = {
  name: 'slow-upstream',
  description: 'upstream adds 50 ms to every response; 256 connections in flight',
  configFile: 'slow-upstream.yaml',
  upstreamDelayMs: 50,
  connections: 256,
  // why: 1,000 req/s × 50 ms = 50 requests in flight; room for 5× that.
  openConnections: 256,
  rates: [1000],
  requests: function slowRequests() {
    return [{ method: 'GET', path: '/slow/item' }];
  },
  verify: verifyTinyJson,
};
