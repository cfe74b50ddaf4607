/**
 * The processes of a load-test run: the scenario's upstream (a uWS child) and
 * the gateway (`turnpike start` with N workers) from a config template under
 * config/loadtest/, each optionally pinned with taskset, plus the /proc
 * sampling of the gateway's CPU and memory.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { freePort, httpGet, type Managed, type ProcessSet } from '../native-bench/bench-procs.js';
import { renderTemplate } from '../native-bench/bench-template.js';
import { treeCpu, treeRssBytes } from '../native-bench/proc-stat.js';

/**
 * The repository root: the nearest folder above this compiled file that holds
 * bin/turnpike.js and config/loadtest/ (the file runs from <repo>/dist/loadtest/
 * or from a side build such as <repo>/.cache/dist-x/loadtest/).
 */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'bin', 'turnpike.js')) && existsSync(join(dir, 'config', 'loadtest'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`repository root not found above ${fileURLToPath(import.meta.url)}`);
}

/** Resolves when `proc` has printed a line matching `pattern`; returns the match. */
export async function waitForOutput(proc: Managed, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(proc.output());
    if (m !== null) return m;
    if (proc.exited() !== null) throw new Error(`${proc.name} exited (${proc.exited()}):\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`${proc.name} did not print ${pattern} within ${timeoutMs} ms:\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A started upstream. */
export interface UpstreamProc {
  port: number;
  proc: Managed;
}

/**
 * Starts the load-test upstream: the uWS HTTP server with a fixed response
 * delay, or (`kind` grpc) the example gRPC LibraryService.
 */
export async function startUpstream(set: ProcessSet, delayMs: number, cpus?: string, kind: 'http' | 'grpc' = 'http'): Promise<UpstreamProc> {
  const script = fileURLToPath(new URL(kind === 'grpc' ? './upstream/grpc-upstream-server.js' : './upstream/upstream-server.js', import.meta.url));
  const args = kind === 'grpc' ? [script] : [script, '--port', '0', '--delay-ms', String(delayMs)];
  const proc = set.start(`upstream (${kind})`, process.execPath, args, { cpus });
  const m = await waitForOutput(proc, /listening (\d+)/, 15000);
  return { port: Number(m[1]), proc };
}

/** A started gateway. */
export interface GatewayProc {
  port: number;
  adminPort: number;
  workers: number;
  proc: Managed;
  /** The rendered config file. */
  configFile: string;
}

/** Where and how to start the gateway. */
export interface GatewayOptions {
  set: ProcessSet;
  /** Template name in config/loadtest/, or an absolute path to a template. */
  configFile: string;
  upstreamPort: number;
  workers: number;
  /** Folder for the rendered config. */
  runDir: string;
  cpus?: string;
  /** Extra environment (e.g. TURNPIKE_* tuning) on top of a clean copy of ours. */
  env?: Record<string, string>;
  /** Extra node flags for the primary, inherited by its workers (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Extra template placeholders (e.g. TLS_CERT / TLS_KEY). */
  vars?: Record<string, string>;
}

/** Renders the scenario's config and starts `turnpike start` with `workers` workers; resolves when /readyz is 200. */
export async function startGateway(o: GatewayOptions): Promise<GatewayProc> {
  const repo = repoRoot();
  const port = await freePort();
  const adminPort = await freePort();
  const templatePath = isAbsolute(o.configFile) ? o.configFile : join(repo, 'config', 'loadtest', o.configFile);
  const template = readFileSync(templatePath, 'utf8');
  const text = renderTemplate(template, { ...o.vars, PORT: port, ADMIN_PORT: adminPort, UPSTREAM_PORT: o.upstreamPort });
  const configFile = join(o.runDir, `${basename(templatePath, '.yaml')}-${port}.yaml`);
  writeFileSync(configFile, text);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('TURNPIKE_') && k !== 'NODE_OPTIONS') env[k] = v;
  env.TURNPIKE_WORKERS = String(o.workers);
  env.TURNPIKE_LOG_LEVEL = 'warn';
  Object.assign(env, o.env);
  const proc = o.set.start(`turnpike (${o.workers} workers)`, process.execPath, [...(o.nodeArgs ?? []), join(repo, 'bin/turnpike.js'), 'start', '--config', configFile],
    { cpus: o.cpus, env, cwd: repo });
  const deadline = Date.now() + 30000;
  for (;;) {
    if (proc.exited() !== null) throw new Error(`gateway exited (${proc.exited()}) before ready:\n${proc.output()}`);
    const r = await httpGet(adminPort, '/readyz', 1000).catch(() => null);
    if (r !== null && r.status === 200) break;
    if (Date.now() > deadline) throw new Error(`gateway not ready after 30 s:\n${proc.output()}`);
    await new Promise((res) => setTimeout(res, 100));
  }
  return { port, adminPort, workers: o.workers, proc, configFile };
}

/**
 * Samples a process tree's CPU ticks at start and stop, and its resident
 * memory every `everyMs` in between (keeping the peak).
 */
export class TreeSampler {
  private startTicks = 0;
  private peakRss = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly rootPid: number, private readonly clkTck: number, private readonly everyMs = 250) {}

  /** Takes the CPU snapshot and starts sampling memory. */
  start(): void {
    this.startTicks = treeCpu(this.rootPid).ticks;
    this.peakRss = treeRssBytes(this.rootPid);
    this.timer = setInterval(() => { this.peakRss = Math.max(this.peakRss, treeRssBytes(this.rootPid)); }, this.everyMs);
    this.timer.unref();
  }

  /** Stops; returns CPU seconds used since `start` and the peak RSS in bytes. */
  stop(): { cpuSeconds: number; peakRssBytes: number } {
    clearInterval(this.timer);
    const ticks = treeCpu(this.rootPid).ticks - this.startTicks;
    this.peakRss = Math.max(this.peakRss, treeRssBytes(this.rootPid));
    return { cpuSeconds: ticks / this.clkTck, peakRssBytes: this.peakRss };
  }
}
