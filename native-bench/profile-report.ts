/**
 * `proxy-bench --profile`: finds the CPU profile of the Turnpike worker and
 * writes results/proxy-bench-profile.md with its hot spots.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResult } from './bench-run.js';
import { formatRuns } from './bench-report.js';
import { formatProfileSummary, summariseProfile, type CpuProfile } from './cpu-profile-summary.js';
import { formatMachine, type MachineInfo } from './machine-info.js';

/**
 * Summarises the worker's `.cpuprofile` in `profDir` (the worker is the
 * process of the measured tree that is not its root) and writes `outFile`.
 * Returns `outFile`.
 */
export function writeProfileReport(profDir: string, runs: RunResult[], outFile: string, command: string, machine: MachineInfo): string {
  const last = runs[runs.length - 1];
  const workerPids = last.proxyProcesses.slice(1).map((p) => p.pid);
  const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
  const worker = files.find((f) => workerPids.some((pid) => f.includes(`.${pid}.`)));
  if (worker === undefined) throw new Error(`no CPU profile of worker pid ${workerPids.join(',')} in ${profDir} (have: ${files.join(', ')})`);
  const profile = JSON.parse(readFileSync(join(profDir, worker), 'utf8')) as CpuProfile;
  const text = [
    '# Turnpike worker CPU profile under wrk load',
    '',
    `Machine: ${formatMachine(machine)}. Turnpike at git ${machine.gitCommit}${machine.gitDirty ? ' (uncommitted changes present)' : ''}.`,
    '',
    '```sh',
    command,
    '```',
    '',
    'The worker ran with `--cpu-prof --cpu-prof-interval=250` (node flags of the primary, inherited by the cluster worker), so its throughput below is a little lower than unprofiled. ' +
      'The profile covers the worker\'s whole life (start-up, warm-ups, measured runs); start-up is a few hundred ms of the total.',
    '',
    formatRuns(runs),
    '',
    `Profile: ${join(profDir, worker)} (open in Chrome DevTools → Performance, or \`node dist/native-bench/cpu-profile-summary.js FILE\`). Lines are of the compiled JS in dist/.`,
    '',
    formatProfileSummary(summariseProfile(profile, 30)),
    '',
  ].join('\n');
  writeFileSync(outFile, text);
  return outFile;
}
