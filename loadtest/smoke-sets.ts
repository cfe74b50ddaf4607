/**
 * Which scenarios the smoke tests run in both loops (scenario-smoke.test.ts)
 * and which in the closed loop only (scenario-smoke-closed.test.ts).
 */

/** Open-loop rates of the smoke runs (requests/s). */
export const SMOKE_RATES: Record<string, number> = { passthrough: 300, tls: 300, 'tls-mtls': 300, params: 300, 'large-body': 20, 'slow-upstream': 200, ratelimit: 300, policies: 300, jwt: 300, auth: 300, 'transcode-small-inline': 200, 'transcode-small-pool': 200, 'transcode-large-inline': 20, 'transcode-large-pool': 20, 'cache-hit': 300, transform: 300 };

/** Scenarios smoked in both loops: one of each generator and upstream kind. */
export const FULL = new Set(['passthrough', 'tls', 'large-body', 'slow-upstream', 'transcode-small-pool', 'cache-hit', 'post-2k']);

