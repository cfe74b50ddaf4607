import type { PrimaryToWorker } from './ipc.js';

/** A live worker the primary can send a command to. */
export interface CommandPeer {
  readonly id: number;
  readonly pid: number | undefined;
  send(message: PrimaryToWorker): void;
}

/** One worker's answer to a broadcast command. */
export interface WorkerAnswer {
  worker: number;
  pid: number | undefined;
  /** The handler's result (absent on error). */
  result?: unknown;
  /** Why the worker could not answer: its handler threw, the command is unknown, or it did not answer in time. */
  error?: string;
}

interface Pending {
  waiting: Map<number, WorkerAnswer>;
  answers: WorkerAnswer[];
  timer: NodeJS.Timeout;
  finish(): void;
}

/**
 * Sends admin commands to every live worker and collects their answers
 * (worker-commands.ts is the other end). A worker that does not answer
 * within the timeout, or exits meanwhile, is reported with an `error`.
 */
export class CommandBroadcaster {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  constructor(private readonly timeoutMs = 2000) {}

  /** Sends `name` to `peers`; resolves with one answer per peer, in peer order. */
  broadcast(peers: Iterable<CommandPeer>, name: string, args: Record<string, string>): Promise<WorkerAnswer[]> {
    const requestId = this.nextId++;
    return new Promise<WorkerAnswer[]>((resolve) => {
      const p: Pending = {
        waiting: new Map(),
        answers: [],
        timer: setTimeout(() => p.finish(), this.timeoutMs),
        finish: () => {
          clearTimeout(p.timer);
          if (!this.pending.delete(requestId)) return;
          for (const a of p.waiting.values()) a.error = 'no answer within ' + this.timeoutMs + ' ms';
          resolve(p.answers);
        },
      };
      this.pending.set(requestId, p);
      for (const peer of peers) {
        const answer: WorkerAnswer = { worker: peer.id, pid: peer.pid };
        p.answers.push(answer);
        try {
          peer.send({ type: 'turnpike:command', requestId, name, args });
          p.waiting.set(peer.id, answer);
        } catch {
          answer.error = 'worker channel closed';
        }
      }
      if (p.waiting.size === 0) p.finish();
    });
  }

  /** Feeds a `turnpike:command-result` from worker `workerId`. */
  onResult(workerId: number, requestId: number, result: unknown, error: string | undefined): void {
    const p = this.pending.get(requestId);
    const answer = p?.waiting.get(workerId);
    if (p === undefined || answer === undefined) return;
    p.waiting.delete(workerId);
    if (error !== undefined) answer.error = error;
    else answer.result = result;
    if (p.waiting.size === 0) p.finish();
  }

  /** A worker exited: it will not answer. */
  onWorkerExit(workerId: number): void {
    for (const p of this.pending.values()) {
      const answer = p.waiting.get(workerId);
      if (answer === undefined) continue;
      p.waiting.delete(workerId);
      answer.error = 'worker exited';
      if (p.waiting.size === 0) p.finish();
    }
  }
}
