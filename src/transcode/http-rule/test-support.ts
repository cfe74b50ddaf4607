/**
 * Test helpers: locate the repository (tests run from dist/ or .cache/dist-*)
 * and load the library demo proto once.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type protobuf from 'protobufjs';
import { loadProtoRoot } from '../proto-root.js';

const LIBRARY = 'config/protos/example/library/v1/library.proto';

/** The repository root: the nearest ancestor of this file holding the library proto. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, LIBRARY))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find ${LIBRARY} above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

let library: protobuf.Root | undefined;

/** The Root of library.proto (include dir config/protos), loaded once per process. */
export function libraryRoot(): protobuf.Root {
  if (library === undefined) {
    const root = repoRoot();
    library = loadProtoRoot([join(root, LIBRARY)], [join(root, 'config/protos')]);
  }
  return library;
}

/** Writes `source` as a .proto file in a fresh temp dir and loads it (imports from config/protos). */
export function loadInlineProto(source: string): protobuf.Root {
  const dir = mkdtempSync(join(tmpdir(), 'httprule-'));
  const file = join(dir, 'inline.proto');
  writeFileSync(file, source);
  try {
    return loadProtoRoot([file], [join(repoRoot(), 'config/protos')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
