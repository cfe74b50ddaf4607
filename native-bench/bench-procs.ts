/**
 * Starting, pinning, probing and stopping the benchmark's child processes.
 * Every process is started in its own process group so that stopping it also
 * reaches its children (Turnpike's cluster workers, nginx's worker).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';

/** One process the benchmark started. */
export interface Managed {
  name: string;
  pid: number;
  child: ChildProcess;
  /** Last ~64 KB of stdout + stderr, for error messages. */
  output: () => string;
  /** Exit code or signal once it has exited, else null. */
  exited: () => string | null;
  /** Resolves when the process has exited. */
  whenExited: Promise<void>;
}

/** How to start one process. */
export interface StartOptions {
  /** taskset CPU list such as "0" or "1"; undefined = not pinned. */
  cpus?: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

const OUTPUT_KEEP = 64 * 1024;

/** The set of processes one benchmark run owns; `stopAll` ends them all. */
export class ProcessSet {
  private readonly procs: Managed[] = [];

  /** Spawns `cmd args` (through `taskset -c cpus` when pinned). */
  start(name: string, cmd: string, args: string[], opts: StartOptions = {}): Managed {
    const file = opts.cpus === undefined ? cmd : 'taskset';
    const argv = opts.cpus === undefined ? args : ['-c', opts.cpus, cmd, ...args];
    const child = spawn(file, argv, {
      cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (child.pid === undefined) throw new Error(`could not start ${name} (${file})`);
    let out = '';
    const keep = (b: Buffer): void => {
      out += b.toString('utf8');
      if (out.length > OUTPUT_KEEP) out = out.slice(-OUTPUT_KEEP);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    let status: string | null = null;
    const whenExited = new Promise<void>((resolve) => {
      child.on('exit', (code, signal) => { status = signal ?? String(code); resolve(); });
      child.on('error', (err) => { status = 'spawn error: ' + err.message; resolve(); });
    });
    const m: Managed = { name, pid: child.pid, child, output: () => out, exited: () => status, whenExited };
    this.procs.push(m);
    return m;
  }

  /**
   * Asks every process to stop (SIGTERM to its pid, which lets Turnpike drain
   * its workers and write CPU profiles), then SIGKILLs its process group
   * after `graceMs`.
   */
  async stopAll(graceMs = 8000): Promise<void> {
    const live = this.procs.filter((p) => p.exited() === null);
    for (const p of live) signal(p.pid, 'SIGTERM');
    await Promise.all(live.map(async (p) => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([p.whenExited, new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
      clearTimeout(timer);
      // why: the group id is the pid (detached); this also reaps workers the
      // parent left behind.
      signal(-p.pid, 'SIGKILL');
    }));
    this.procs.length = 0;
  }

  /** Stops one process as `stopAll` does (SIGTERM, then SIGKILL of its group after `graceMs`) and forgets it. */
  async stop(m: Managed, graceMs = 8000): Promise<void> {
    if (m.exited() === null) {
      signal(m.pid, 'SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([m.whenExited, new Promise<void>((r) => { timer = setTimeout(r, graceMs); })]);
      clearTimeout(timer);
    }
    signal(-m.pid, 'SIGKILL');
    const i = this.procs.indexOf(m);
    if (i >= 0) this.procs.splice(i, 1);
  }

  /**
   * Starts a short-lived process (wrk), waits for it to exit and forgets it;
   * resolves with its exit status and output. Tracked while it runs, so
   * `stopAll`/`killAllNow` also end it.
   */
  async run(name: string, cmd: string, args: string[], opts: StartOptions = {}): Promise<{ status: string; output: string }> {
    const m = this.start(name, cmd, args, opts);
    await m.whenExited;
    // why: the output pipes may deliver their last bytes after 'exit'.
    await new Promise<void>((r) => { if (m.child.stdout!.closed) r(); else m.child.stdout!.once('close', () => r()); });
    const i = this.procs.indexOf(m);
    if (i >= 0) this.procs.splice(i, 1);
    return { status: m.exited() ?? '?', output: m.output() };
  }

  /** Synchronous last-resort kill (process 'exit' handler). */
  killAllNow(): void {
    for (const p of this.procs) if (p.exited() === null) signal(-p.pid, 'SIGKILL');
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try { process.kill(pid, sig); } catch { /* already gone */ }
}

/** A free TCP port on 127.0.0.1 (bound then released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A plain HTTP response: status, headers, body text. */
export interface Fetched {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One GET with its own connection. */
export function httpGet(port: number, path: string, timeoutMs = 2000): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

/**
 * Polls `GET path` on `port` until it answers 200 with a body containing
 * `expect`; throws if `proc` exits first or `timeoutMs` passes.
 */
export async function waitServing(proc: Managed, port: number, path: string, expect: string, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (proc.exited() !== null) throw new Error(`${proc.name} exited (${proc.exited()}) before serving:\n${proc.output()}`);
    try {
      const r = await httpGet(port, path, 1000);
      if (r.status === 200 && r.body.includes(expect)) return;
      last = `status ${r.status}: ${r.body.slice(0, 200)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${proc.name} not serving ${path} on :${port} after ${timeoutMs} ms (last: ${last}):\n${proc.output()}`);
}

/** Runs a command to completion; resolves with its exit code and output. */
export function runToEnd(cmd: string, args: string[], opts: StartOptions = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const file = opts.cpus === undefined ? cmd : 'taskset';
  const argv = opts.cpus === undefined ? args : ['-c', opts.cpus, cmd, ...args];
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => { stdout += b.toString('utf8'); });
    child.stderr.on('data', (b: Buffer) => { stderr += b.toString('utf8'); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
