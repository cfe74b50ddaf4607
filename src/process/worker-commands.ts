/**
 * Admin commands a worker answers (e.g. `upstreams`: its breaker and target
 * state; `cache-purge`: drop cache entries). The primary broadcasts a
 * command to every live worker over cluster IPC (command-broadcast.ts) and
 * the admin API serves the collected answers. Parts of a worker (policies,
 * upstream groups) register their commands at start.
 */

/** Command arguments: the admin request's query parameters. */
export type CommandArgs = Readonly<Record<string, string>>;

/** Handles one command; may be asynchronous. A throw becomes the worker's `error` answer. */
export type CommandHandler = (args: CommandArgs) => unknown;

/** Where parts of a worker register the commands they answer. */
export interface CommandRegistry {
  /**
   * Registers `name`. Several handlers may share a name (e.g. two cache
   * policies both answer `cache-purge`): the answer is then the list of their
   * results, in registration order.
   */
  register(name: string, handler: CommandHandler): void;
}

/** Thrown (and reported to the admin client) for a command nobody registered. */
export class UnknownCommandError extends Error {
  constructor(readonly command: string) {
    super('unknown command ' + JSON.stringify(command));
  }
}

/** One worker's command table. */
export class WorkerCommands implements CommandRegistry {
  private readonly handlers = new Map<string, CommandHandler[]>();

  register(name: string, handler: CommandHandler): void {
    const list = this.handlers.get(name);
    if (list === undefined) this.handlers.set(name, [handler]);
    else list.push(handler);
  }

  /** Whether any handler answers `name`. */
  has(name: string): boolean {
    return this.handlers.has(name);
  }

  /**
   * Runs `name`: one handler's result as is, several handlers' results as an
   * array. Rejects with {@link UnknownCommandError} when none is registered.
   */
  async run(name: string, args: CommandArgs): Promise<unknown> {
    const list = this.handlers.get(name);
    if (list === undefined) throw new UnknownCommandError(name);
    if (list.length === 1) return await list[0](args);
    const out: unknown[] = [];
    for (const h of list) out.push(await h(args));
    return out;
  }
}
