import { createServer } from 'node:net';

/**
 * A listener could not be opened (port taken, no permission, unknown
 * address). Its message is one line meant for the operator, e.g.
 * `cannot listen on 127.0.0.1:9901 (admin): address in use`.
 */
export class ListenError extends Error {
  /** The system error code (`EADDRINUSE`, `EACCES`, ...), when there was one. */
  readonly code: string | undefined;

  constructor(host: string, port: number, role: string, cause: unknown, hint?: string) {
    const code = systemCode(cause);
    super(`cannot listen on ${formatHostPort(host, port)} (${role}): ${describeCode(code, cause)}${hint === undefined ? '' : `; ${hint}`}`);
    this.name = 'ListenError';
    this.code = code;
  }
}

/** `host:port`, with IPv6 literals bracketed (`[::1]:8080`). */
export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function systemCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function describeCode(code: string | undefined, err: unknown): string {
  switch (code) {
    case 'EADDRINUSE': return 'address in use';
    case 'EACCES': return 'permission denied (ports below 1024 need privileges)';
    case 'EADDRNOTAVAIL': return 'address not available on this host';
    case 'ENOTFOUND':
    case 'EAI_AGAIN': return 'unknown host';
    default: return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Resolves if nothing else listens on host:port, else rejects with a
 * {@link ListenError} naming `role`. Port 0 always passes.
 *
 * The probe is a plain exclusive listen without SO_REUSEPORT, closed at once:
 * it fails if any socket is bound there, even one that set SO_REUSEPORT (the
 * gateway's own workers do, so another Turnpike on the same port would
 * otherwise silently share it). A wildcard host (`0.0.0.0`, `::`) also
 * conflicts with a listener on any single address of that port, and `::`
 * (dual-stack) with IPv4 listeners too. Call it only for a port this process
 * does not hold itself (first start, not a reload onto the same port).
 */
export function assertCanListen(host: string, port: number, role: string): Promise<void> {
  if (port === 0) return Promise.resolve();
  const probe = createServer();
  return new Promise<void>((resolve, reject) => {
    probe.once('error', (err) => reject(new ListenError(host, port, role, err)));
    probe.listen({ host, port, exclusive: true }, () => {
      probe.close(() => resolve());
    });
  });
}
