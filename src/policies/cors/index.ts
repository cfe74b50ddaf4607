/**
 * The cors policy kind: answers CORS preflights at the gateway and adds the
 * Access-Control-* response headers for allowed origins (cors-policy.ts).
 * Stateless: no connections, timers or metrics.
 */
import type { GatewayConfig } from '../../config/types.js';
import type { PolicyEnv, PolicyFactory, PolicyInstance, PolicyProvider, PolicySpec } from '../types.js';
import { CorsPolicy } from './cors-policy.js';
import { checkCors, corsSchema, type CorsConfig } from './schema.js';

class CorsProvider implements PolicyProvider {
  private readonly byName = new Map<string, CorsPolicy>();

  constructor(specs: readonly PolicySpec[]) {
    for (const s of specs) this.byName.set(s.name, new CorsPolicy('cors:' + s.name, s.config as CorsConfig));
  }

  instance(spec: PolicySpec): PolicyInstance {
    return this.byName.get(spec.name) ?? new CorsPolicy('cors:' + spec.name, spec.config as CorsConfig);
  }

  status(): unknown {
    return null;
  }

  ready(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** The `cors` policy kind (registered in ../registry.ts). */
export const corsFactory: PolicyFactory = {
  name: 'cors',
  schema: corsSchema,
  check: checkCors,
  create(specs: readonly PolicySpec[], _config: GatewayConfig, _env: PolicyEnv): PolicyProvider {
    return new CorsProvider(specs);
  },
};
