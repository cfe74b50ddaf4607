/**
 * Micro-benchmark cases of the validate policy kind: the body check of the
 * `validate` load-test scenario (the same schema, config/loadtest/validate.yaml,
 * and the same 2 KiB order) split into JSON.parse and ajv, and the query check.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { orderBody } from '../../loadtest/scenarios/validate.js';
import { BODY_OK, checkBody, checkQuery } from '../../src/policies/validate/part-checks.js';
import { SchemaCompiler } from '../../src/policies/validate/schema-loader.js';
import { compileSettings, type ValidateConfig } from '../../src/policies/validate/settings.js';
import { ValidationErrors } from '../../src/policies/validate/validation-errors.js';

/** One case (the shape of cases.ts's MicroCase). */
interface ValidateCase { group: 'validate'; name: string; fn: () => unknown }

/** The cases; throws when the scenario's body does not pass its schema (the bench would measure a refusal). */
export function validateCases(): ValidateCase[] {
  const file = new URL('../../../config/loadtest/validate.yaml', import.meta.url);
  // The template's {{PORT}}-style placeholders are not YAML values: any number does here.
  const text = readFileSync(file, 'utf8').replace(/\{\{[A-Z_]+\}\}/g, '0');
  const cfg = (parseYaml(text) as { policies: Record<string, { validate: ValidateConfig }> }).policies['create-order'].validate;
  const s = compileSettings(cfg, file.pathname, new SchemaCompiler());
  const body = orderBody();
  const check = s.plain!;
  if (checkBody(check.body!, body, new ValidationErrors()) !== BODY_OK) throw new Error('the scenario body does not pass its schema');
  const parsed = JSON.parse(body.toString('utf8')) as unknown;
  return [
    { group: 'validate', name: 'validate: JSON.parse 2 KiB order', fn: () => JSON.parse(body.toString('utf8')) },
    { group: 'validate', name: 'validate: ajv 2 KiB order (parsed)', fn: () => check.body!.validate(parsed) },
    { group: 'validate', name: 'validate: body check 2 KiB (parse + ajv)', fn: () => checkBody(check.body!, body, new ValidationErrors()) },
    { group: 'validate', name: 'validate: query check ?limit=10', fn: () => checkQuery(check.query!, 'limit=10', new ValidationErrors()) },
  ];
}
