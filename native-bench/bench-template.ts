/**
 * Fills `{{NAME}}` placeholders in the config templates of native-bench/configs/.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

/**
 * Replaces every `{{NAME}}` with `vars[NAME]`. Throws when the template uses
 * a name `vars` lacks, so a typo cannot yield a silently broken config.
 */
export function renderTemplate(template: string, vars: Record<string, string | number>): string {
  return template.replace(/\{\{([A-Z0-9_]+)\}\}/g, function fill(_all: string, name: string): string {
    const v = vars[name];
    if (v === undefined) throw new Error(`template placeholder {{${name}}} has no value`);
    return String(v);
  });
}

/**
 * The native-bench/configs/ folder in the source tree. The script runs from
 * dist/native-bench/ or .cache/build-x/native-bench/, so walk up until a
 * `native-bench/configs` that holds the templates is found.
 */
export function configsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'native-bench', 'configs');
    try {
      readFileSync(join(candidate, 'nginx-proxy.conf'));
      return candidate;
    } catch {
      dir = dirname(dir);
    }
  }
  throw new Error('native-bench/configs/ not found above ' + fileURLToPath(import.meta.url));
}

/** Reads template `name` from native-bench/configs/ and renders it. */
export function renderConfig(name: string, vars: Record<string, string | number>): string {
  return renderTemplate(readFileSync(join(configsDir(), name), 'utf8'), vars);
}
