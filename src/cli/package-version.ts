import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The version in Turnpike's package.json: the nearest package.json named
 * `turnpike` above `from` (default: this compiled file, which sits in
 * dist/src/cli/ of a checkout or an installed package). Returns null if
 * none is found.
 */
export function packageVersion(from: string = fileURLToPath(import.meta.url)): string | null {
  let dir = dirname(from);
  for (;;) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      try {
        const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
        if (pkg.name === 'turnpike' && typeof pkg.version === 'string') return pkg.version;
      } catch {
        // not readable JSON: keep looking further up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
