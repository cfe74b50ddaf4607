#!/usr/bin/env node
// Copies the non-TypeScript files the compiled code reads at run time (the
// rate-limit Lua scripts, the dashboard's page, script and style sheet in
// src/admin/dashboard/static/) from src/ into the same place under dist/src/,
// so dist/ is self-contained (the Docker image ships only dist/).
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

const ASSET = /\.lua$|[/\\]admin[/\\]dashboard[/\\]static[/\\][^/\\]+\.(?:html|css|js)$/;
function walk(dir, out) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (ASSET.test(p)) out.push(p);
  }
  return out;
}
for (const file of walk('src', [])) {
  const to = join('dist', file);
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(file, to);
  if (process.env.TURNPIKE_VERBOSE_BUILD) console.log(`${relative('.', file)} -> ${to}`);
}
