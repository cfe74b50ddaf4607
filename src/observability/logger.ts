import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Levels accepted by {@link createLogger} (pino's, plus `silent`). */
export const LOG_LEVELS: readonly string[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Picks the effective log level: `TURNPIKE_LOG_LEVEL` (when set and valid)
 * overrides the configured level, so an operator can turn on debug logging
 * without editing the config file. Unknown values fall back to `info`.
 */
export function resolveLogLevel(configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  const fromEnv = env.TURNPIKE_LOG_LEVEL?.trim().toLowerCase();
  if (fromEnv !== undefined && fromEnv !== '' && LOG_LEVELS.includes(fromEnv)) return fromEnv;
  const fromConfig = configured?.trim().toLowerCase();
  if (fromConfig !== undefined && LOG_LEVELS.includes(fromConfig)) return fromConfig;
  return 'info';
}

/**
 * Creates the process logger: one JSON object per line on stdout, with
 * `bindings` (e.g. `{ role: 'primary' }` or `{ role: 'worker', generation }`)
 * on every line. The level is resolved with {@link resolveLogLevel}.
 *
 * Writes are synchronous so the last lines before `process.exit()` are never
 * lost; nothing on the request path logs at `info`, so this costs nothing hot.
 */
export function createLogger(
  level?: string,
  bindings: Record<string, unknown> = {},
  env: NodeJS.ProcessEnv = process.env,
): Logger {
  return pino(
    {
      level: resolveLogLevel(level, env),
      base: { pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        // why: `"level":"info"` is readable in any log pipeline; pino's default is a number.
        level: function levelLabel(label: string) {
          return { level: label };
        },
      },
    },
    pino.destination({ dest: 1, sync: true }),
  );
}
