import { join } from 'node:path';
import { parseArgs } from 'node:util';

/** Where a run writes its report unless `--out` says otherwise: results/tmp/<UTC time>/. */
export const DEFAULT_OUT_PARENT = join('results', 'tmp');

/** The text of `npm run loadtest -- --help`, listing `scenarios` by name. */
export function loadtestUsage(scenarios: readonly string[]): string {
  return `Usage: npm run loadtest -- [options]
       (node dist/loadtest/loadtest-cli.js [options])

Runs the load-test scenarios against a real gateway and upstream, prints a
table, and writes <name>.json and <name>.md (with SVG charts).

Options:
  --scenario a,b|all     scenarios to run (default all):
                         ${scenarios.join(', ')}
  --mode closed,open     closed loop (max req/s) and/or open loop (fixed rates) (default both)
  --workers 1,2          gateway worker counts to run (default 1 and the core count)
  --duration S           seconds measured per step (default 10)
  --warmup S             seconds of warm-up per step (default 2)
  --connections N        closed-loop connections (default: per scenario)
  --rates R1,R2          open-loop arrival rates in req/s (default: per scenario)
  --pin auto|none        CPU pinning (default auto on >= 2 cores: gateway on the first
                         cores, generator + upstream on the last)
  --gateway-cpus LIST    pin the gateway to these CPUs (taskset list, e.g. 0-6)
  --load-cpus LIST       pin the generator and upstream to these CPUs (e.g. 7)
  --out DIR              report directory (default results/tmp/<UTC time>/, ignored by git;
                         pass --out results to update the committed reports)
  --name NAME            report file name without extension (default loadtest)
  -h, --help             print this help
`;
}

/** The parsed command line of the load-test CLI (lists still as given). */
export interface LoadtestOptions {
  scenario: string;
  mode: string;
  workers?: string;
  duration: string;
  warmup: string;
  connections?: string;
  rates?: string;
  pin: string;
  gatewayCpus?: string;
  loadCpus?: string;
  /** The report directory: `--out`, else results/tmp/<UTC time>. */
  out: string;
  name: string;
}

/** `20261123T224600Z`: a sortable, file-name-safe UTC timestamp. */
export function runStamp(now: Date): string {
  return now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/**
 * Parses the load-test CLI arguments. Returns `{ help: true }` for
 * `--help`/`-h`; throws on an unknown option or a missing value (the message
 * is one line). `now` names the default report directory.
 */
export function parseLoadtestArgs(argv: string[], now: Date = new Date()): { help: true } | { help: false; options: LoadtestOptions } {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      scenario: { type: 'string', default: 'all' }, mode: { type: 'string', default: 'closed,open' },
      workers: { type: 'string' }, duration: { type: 'string', default: '10' }, warmup: { type: 'string', default: '2' },
      connections: { type: 'string' }, rates: { type: 'string' }, pin: { type: 'string', default: 'auto' },
      'gateway-cpus': { type: 'string' }, 'load-cpus': { type: 'string' },
      out: { type: 'string' }, name: { type: 'string', default: 'loadtest' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help === true) return { help: true };
  return {
    help: false,
    options: {
      scenario: values.scenario!, mode: values.mode!, workers: values.workers, duration: values.duration!, warmup: values.warmup!,
      connections: values.connections, rates: values.rates, pin: values.pin!,
      gatewayCpus: values['gateway-cpus'], loadCpus: values['load-cpus'],
      out: values.out ?? join(DEFAULT_OUT_PARENT, runStamp(now)),
      name: values.name!,
    },
  };
}
