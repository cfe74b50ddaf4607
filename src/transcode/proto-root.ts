/**
 * Loads .proto files into one protobufjs Root: imports are searched in the
 * include dirs in order, then among the google/protobuf files protobufjs
 * ships (descriptor.proto and friends; the well-known types are built in).
 * Field names keep their proto spelling (keepCase); JSON names are derived
 * by the JSON mapping.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import protobuf from 'protobufjs';

/** protobufjs's own folder (for google/protobuf/descriptor.proto). */
const PROTOBUFJS_DIR = dirname(createRequire(import.meta.url).resolve('protobufjs/package.json'));

/** A .proto file could not be found or parsed; the message names the file. */
export class ProtoLoadError extends Error {
  readonly code = 'proto_load_failed';
}

/**
 * Parses `files` (absolute, or relative to an include dir or the cwd) with
 * their imports, resolves every type, and returns the Root.
 */
export function loadProtoRoot(files: readonly string[], includeDirs: readonly string[]): protobuf.Root {
  const dirs = includeDirs.map((d) => resolve(d));
  const root = new protobuf.Root();
  root.resolvePath = function resolveImport(origin: string, target: string): string | null {
    if (isAbsolute(target) && existsSync(target)) return target;
    for (const dir of dirs) {
      const p = join(dir, target);
      if (existsSync(p)) return p;
    }
    const shipped = join(PROTOBUFJS_DIR, target);
    if (existsSync(shipped)) return shipped;
    // Relative to the importing file, then to the cwd; protobufjs reports a missing file itself.
    const near = origin === '' ? resolve(target) : join(dirname(origin), target);
    return existsSync(near) ? near : target;
  };
  try {
    root.loadSync(files.map((f) => (isAbsolute(f) ? f : f)), { keepCase: true });
    root.resolveAll();
  } catch (err) {
    throw new ProtoLoadError(`cannot load ${files.join(', ')}: ${(err as Error).message}`, { cause: err });
  }
  return root;
}
