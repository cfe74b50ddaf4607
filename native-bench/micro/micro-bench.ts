/**
 * Micro-benchmarks of Turnpike's request-path pieces (router, header
 * forwarding, problem+json, request ids). Prints a table and writes a
 * Markdown report.
 *
 * Run: node dist/native-bench/micro/micro-bench.js [--min-ms 300] [--rounds 5] [--out results/micro-bench.md] [--filter router]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { formatMachine, machineInfo, type MachineInfo } from '../machine-info.js';
import { allMicroCases } from './cases.js';
import { bench, benchSink, formatMicroTable, type BenchResult } from './micro-harness.js';

/** Command-line options. */
export interface MicroArgs {
  minMs: number;
  rounds: number;
  /** Report path, relative to the working directory ('' = do not write one). */
  out: string;
  /** Only cases whose name contains this ('' = all). */
  filter: string;
}

/**
 * Parses `--min-ms N --rounds N --out PATH --filter TEXT` (also `--x=v`).
 *
 * @throws Error on an unknown option, a missing value or a bad number
 */
export function parseMicroArgs(argv: readonly string[]): MicroArgs {
  const args: MicroArgs = { minMs: 300, rounds: 5, out: 'results/micro-bench.md', filter: '' };
  for (let i = 0; i < argv.length; i++) {
    let key = argv[i];
    let value: string | undefined;
    const eq = key.indexOf('=');
    if (eq > 0) { value = key.slice(eq + 1); key = key.slice(0, eq); } else value = argv[++i];
    if (value === undefined) throw new Error(`${key} needs a value`);
    switch (key) {
      case '--min-ms': args.minMs = positive(key, value); break;
      case '--rounds': args.rounds = positive(key, value); break;
      case '--out': args.out = value; break;
      case '--filter': args.filter = value; break;
      default: throw new Error(`unknown option ${key} (known: --min-ms, --rounds, --out, --filter)`);
    }
  }
  if (!Number.isInteger(args.rounds)) throw new Error('--rounds must be an integer');
  return args;
}

function positive(key: string, text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${key} must be a positive number, got "${text}"`);
  return n;
}

/** The repository root: nearest ancestor of this file whose package.json is Turnpike's. */
export function findRepoDir(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'turnpike') return dir;
    if (dirname(dir) === dir) return process.cwd();
  }
}

/** Everything the report shows besides the results. */
export interface MicroReportInput {
  machine: MachineInfo;
  command: string;
  args: MicroArgs;
  startedAt: Date;
  results: BenchResult[];
}

/** The Markdown report: machine, command, options, table, notes on what each group measures. */
export function formatMicroReport(r: MicroReportInput): string {
  return [
    '# Turnpike request-path micro-benchmarks',
    '',
    `- Date: ${r.startedAt.toISOString()}`,
    `- Machine: ${formatMachine(r.machine)}`,
    `- Git: ${r.machine.gitCommit}${r.machine.gitDirty ? ' (working tree dirty)' : ''}; 1-min load average at start: ${r.machine.loadAvgStart.toFixed(2)}`,
    `- Command: \`${r.command}\``,
    `- Per case: warm-up and batch calibration, then ${r.args.rounds} round(s) of at least ${r.args.minMs} ms; ops/s is the median round, spread is slowest–fastest round.`,
    '',
    formatMicroTable(r.results),
    '',
    '## What each group measures',
    '',
    '- **baseline**: a closure that increments a counter: the harness\'s own cost per call; rows near it are at the measurement floor.',
    '- **router**: `router.match(method, \'\', path, lookup, params)` (Turnpike, compiled with `compileRouter`) vs `find-my-way` `find(method, path)` on router-bench\'s ~300-route table, cycling through 2000 seeded lookups (mixed) or the subset of one kind. Both routers are checked to agree on route and params for every lookup before timing.',
    '- **headers**: `buildUpstreamHeaders(ctx, upstreamHost, \'http\')` on a context filled as `readRequest` + `RequestHandler.route` fill it: a 13-header browser request relayed by a trusted proxy (X-Forwarded-For appended), the same with preserveHost, and a 3-header curl request.',
    '- **problem**: the building part of `writeProblem`: `statusLine(status)` + `problemBody(err, path, requestId)`; the 502 row also runs `mapUpstreamError` on an ECONNREFUSED error (a new GatewayError per request, as the dispatcher does; GatewayError skips stack capture). Writing to a uWS response is not included.',
    '- **request-id**: `RequestIdGenerator.next()`, with `crypto.randomUUID()` (what it replaced) for reference.',
    '',
    'Numbers come from one process on a shared machine; compare rows of one run, not across runs.',
    '',
  ].join('\n');
}

/** How this process was started, as a command to paste (paths relative to the repo). */
export function commandLine(repoDir: string): string {
  const script = relative(repoDir, process.argv[1] ?? '');
  const quote = (s: string): string => (/^[\w./=:,@+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
  return ['node', ...process.execArgv, script, ...process.argv.slice(2)].map(quote).join(' ');
}

/** Runs every (filtered) case, printing progress to stderr; returns the results in case order. */
export function runMicroCases(args: MicroArgs): BenchResult[] {
  const cases = allMicroCases().filter((c) => args.filter === '' || c.name.includes(args.filter));
  if (cases.length === 0) throw new Error(`no case matches --filter ${args.filter}`);
  const results: BenchResult[] = [];
  for (const c of cases) {
    const r = bench(c.name, c.fn, { minMs: args.minMs, rounds: args.rounds });
    process.stderr.write(`  ${c.name}: ${Math.round(r.opsPerSec).toLocaleString('en-US')} ops/s\n`);
    results.push(r);
  }
  return results;
}

async function main(): Promise<void> {
  const args = parseMicroArgs(process.argv.slice(2));
  const repoDir = findRepoDir();
  const startedAt = new Date();
  const machine = await machineInfo(repoDir);
  const command = commandLine(repoDir);
  process.stderr.write(`micro-bench: ${formatMachine(machine)}; load ${os.loadavg()[0].toFixed(2)}\n`);
  const results = runMicroCases(args);
  console.log(formatMicroTable(results));
  if (args.out !== '') {
    const out = resolve(args.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, formatMicroReport({ machine, command, args, startedAt, results }));
    console.log(`\nreport: ${relative(process.cwd(), out) || out}`);
  }
  if (benchSink.calls === 0) console.log('(no calls recorded)');
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
