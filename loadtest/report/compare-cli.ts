#!/usr/bin/env node
/**
 * `node dist/loadtest/report/compare-cli.js before.json after.json [--md]`:
 * prints how the runs of two load-test results differ. Exit 0 on success,
 * 2 on bad arguments or an unreadable/invalid file (the message says which).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { compareResults, formatComparison } from './compare.js';
import { parseLoadtestResult, ResultFileError } from './result-validate.js';
import type { LoadtestResult } from '../result-types.js';

const USAGE = 'usage: node dist/loadtest/report/compare-cli.js before.json after.json [--md]';

/** Reads and validates one result file. */
function load(path: string): LoadtestResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ResultFileError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return parseLoadtestResult(text, path);
}

/** Runs the comparison for `argv` (without node and script); returns the exit code. */
function main(argv: string[]): number {
  let values: { md?: boolean; help?: boolean };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({ args: argv, allowPositionals: true,
      options: { md: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } }));
  } catch (err) {
    process.stderr.write(`compare: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 2) {
    process.stderr.write(`compare: expected 2 files, got ${positionals.length}\n${USAGE}\n`);
    return 2;
  }
  try {
    const [before, after] = positionals.map(load);
    process.stdout.write(formatComparison(compareResults(before, after), { markdown: values.md === true }));
    return 0;
  } catch (err) {
    if (!(err instanceof ResultFileError)) throw err;
    process.stderr.write(`compare: ${err.message}\n`);
    return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
