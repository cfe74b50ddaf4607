/**
 * Micro-benchmark cases of the transform policy kind: the response body
 * phase of the `transform` load-test scenario (the same policy,
 * config/loadtest/transform.yaml, and the same 4 KiB document) split into
 * JSON.parse, the projection walk, and the whole responseBody call.
 */
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { parse as parseYaml } from 'yaml';
import { doc4kJson, projectedJson } from '../../loadtest/scenarios/transform.js';
import { RequestContext } from '../../src/ingress/request-context.js';
import type { Logger } from '../../src/observability/logger.js';
import { transformFactory } from '../../src/policies/transform/index.js';
import { JsonOps } from '../../src/policies/transform/json-ops.js';
import type { TransformConfig } from '../../src/policies/transform/schema.js';
import type { BufferedResponse, PolicyEnv } from '../../src/policies/types.js';

/** One case (the shape of cases.ts's MicroCase). */
interface TransformCase { group: 'transform'; name: string; fn: () => unknown }

/** The cases; throws when the policy does not produce the scenario's projection (the bench would measure something else). */
export function transformCases(): TransformCase[] {
  const file = new URL('../../../config/loadtest/transform.yaml', import.meta.url);
  // The template's {{PORT}}-style placeholders are not YAML values: any number does here.
  const text = readFileSync(file, 'utf8').replace(/\{\{[A-Z_]+\}\}/g, '0');
  const cfg = (parseYaml(text) as { policies: Record<string, { transform: TransformConfig }> }).policies.project.transform;
  const quiet = { warn() {}, info() {}, error() {}, debug() {} } as unknown as Logger;
  const env = { registry: new Registry(), logger: quiet } as unknown as PolicyEnv;
  const provider = transformFactory.create([{ name: 'project', kind: 'transform', config: cfg, at: [] }], null as never, env);
  const policy = provider.instance({ name: 'project', kind: 'transform', config: cfg, at: [] });
  const ctx = new RequestContext(null as never);
  ctx.route = { name: 'doc', index: 0 } as never;
  const doc = Buffer.from(doc4kJson());
  const run = (): BufferedResponse => {
    const res: BufferedResponse = { status: 200, headers: ['content-type', 'application/json'], body: doc };
    policy.responseBody!(ctx, res);
    return res;
  };
  if (run().body.toString() !== projectedJson()) throw new Error('the policy does not produce the scenario projection');
  const ops = new JsonOps(cfg.response!.json!);
  const parsed = JSON.parse(doc.toString('utf8')) as unknown;
  return [
    { group: 'transform', name: 'transform: JSON.parse 4 KiB document', fn: () => JSON.parse(doc.toString('utf8')) },
    { group: 'transform', name: 'transform: project 4 KiB (parsed) to 5 fields + stringify', fn: () => JSON.stringify(ops.apply(parsed, ctx)) },
    { group: 'transform', name: 'transform: responseBody 4 KiB → 5 fields (whole phase)', fn: run },
  ];
}
