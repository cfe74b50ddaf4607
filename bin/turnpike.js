#!/usr/bin/env node
// Entry point of the `turnpike` command. The TypeScript sources compile to
// dist/ (`npm run build`, run automatically by `npm install`/`npm start`).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  console.error('turnpike: dist/ is missing; run `npm run build` (or `npm install`) first');
  process.exit(2);
}
const { runCli } = await import(main.href);
process.exitCode = await runCli(process.argv.slice(2));
