/**
 * Makes sure the benchmark's external tools exist, installing the missing
 * ones with apt-get (Debian) when running as root.
 */
import { runToEnd } from './bench-procs.js';

const PACKAGES: Record<string, string> = { nginx: 'nginx-light', wrk: 'wrk', haproxy: 'haproxy', taskset: 'util-linux' };

async function has(cmd: string): Promise<boolean> {
  const r = await runToEnd('sh', ['-c', `command -v ${cmd}`]);
  return r.code === 0;
}

/**
 * Checks for nginx, wrk, taskset (and haproxy when wanted); installs missing
 * ones with `apt-get update && apt-get install -y`. Throws when nginx or wrk
 * stay missing; resolves with whether haproxy is available.
 */
export async function ensureTools(wantHaproxy: boolean): Promise<boolean> {
  const needed = ['nginx', 'wrk', 'taskset', ...(wantHaproxy ? ['haproxy'] : [])];
  const missing: string[] = [];
  for (const c of needed) if (!(await has(c))) missing.push(c);
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) throw new Error(`missing ${missing.join(', ')}: install ${missing.map((m) => PACKAGES[m]).join(' ')} (apt-get) and rerun`);
    process.stdout.write(`installing ${missing.map((m) => PACKAGES[m]).join(' ')} with apt-get\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const up = await runToEnd('apt-get', ['update'], { env });
    if (up.code !== 0) throw new Error(`apt-get update failed:\n${up.stderr}`);
    const inst = await runToEnd('apt-get', ['install', '-y', '--no-install-recommends', ...missing.map((m) => PACKAGES[m])], { env });
    if (inst.code !== 0) process.stderr.write(`apt-get install failed:\n${inst.stderr}\n`);
  }
  for (const c of ['nginx', 'wrk', 'taskset']) if (!(await has(c))) throw new Error(`${c} is required and could not be installed`);
  return wantHaproxy && (await has('haproxy'));
}
