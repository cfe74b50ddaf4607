/**
 * The validate policy kind: refuses requests that do not match a JSON
 * Schema (2020-12, ajv) or an OpenAPI 3.0/3.1 document: path params, query,
 * headers (access phase) and the JSON body (requestBody phase, only when a
 * body is validated) → `400 validation_failed` with an `errors` list; an
 * optional response monitor logs and counts upstream responses that do not
 * match the document. Schemas compile once per worker, and once more at
 * config load (the kind's check) so problems name file, line and path. See
 * README, "validate".
 */
import type { GatewayConfig } from '../../config/types.js';
import type { PolicyEnv, PolicyFactory, PolicyInstance, PolicyProvider, PolicySpec } from '../types.js';
import { registerValidateMetrics, ValidateCounters } from './metrics.js';
import { ResponseMonitor } from './response-monitor.js';
import { SchemaCompiler } from './schema-loader.js';
import { checkValidate, validateSchema } from './schema.js';
import { compileSettings, type ValidateConfig } from './settings.js';
import { validateInstance } from './validate-policy.js';

class ValidateProvider implements PolicyProvider {
  private readonly byName = new Map<string, PolicyInstance>();

  constructor(specs: readonly PolicySpec[], config: GatewayConfig, env: PolicyEnv) {
    // why: one pair of ajv instances per worker; schema files shared by
    // several policies are loaded and compiled once.
    const compiler = new SchemaCompiler();
    const all: ValidateCounters[] = [];
    for (const spec of specs) {
      const settings = compileSettings(spec.config as ValidateConfig, config.source, compiler);
      const counters = new ValidateCounters(spec.name);
      all.push(counters);
      const monitor = settings.monitor ? new ResponseMonitor(spec.name, settings.responseLimit, counters, env.logger) : null;
      this.byName.set(spec.name, validateInstance(spec.name, settings, counters, monitor));
    }
    registerValidateMetrics(env.registry, all);
  }

  instance(spec: PolicySpec): PolicyInstance {
    return this.byName.get(spec.name)!;
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

/** The `validate` policy kind (registered in ../registry.ts). */
export const validateFactory: PolicyFactory = {
  name: 'validate',
  schema: validateSchema,
  check: checkValidate,
  create(specs: readonly PolicySpec[], config: GatewayConfig, env: PolicyEnv): PolicyProvider {
    return new ValidateProvider(specs, config, env);
  },
};
