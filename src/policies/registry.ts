/** Every policy kind, in the order their instances run on a route: one line each. */
import { headersFactory } from './headers/index.js';
import { rateLimitFactory } from './rate-limit/index.js';
import type { PolicyFactory } from './types.js';

/** The registered policy kinds. */
export const POLICY_FACTORIES: readonly PolicyFactory[] = [
  rateLimitFactory,
  headersFactory,
];
