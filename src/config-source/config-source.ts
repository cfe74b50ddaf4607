/**
 * Where the primary's configuration comes from: the YAML file (default) or
 * etcd. The primary asks a source for the config at boot and on every
 * reload, and tells it the outcome; the source tells the primary when a new
 * revision is there to load.
 * @module
 */
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../observability/logger.js';

/** A validated config and where it came from. */
export interface SourcedConfig {
  config: GatewayConfig;
  /** etcd mod revision of the document; `null` for a file. */
  revision: number | null;
  /** File-like name used in messages, e.g. `etcd://127.0.0.1:2379/turnpike/prod/config@rev42`. */
  name: string;
}

/** The `config` entry of `/readyz` details. */
export interface ConfigSourceDetails {
  /** `file` or `etcd`. */
  source: string;
  /** The file path, or the etcd URL and key. */
  path: string;
  /** Revision serving now (`null` for a file). */
  revision: number | null;
  /** Last revision refused (invalid, or its workers did not start), if any since it was applied. */
  rejectedRevision: number | null;
  rejectedReason: string | null;
  /** Extra state (etcd: `connected`, `cache`). */
  [key: string]: unknown;
}

/** Thrown by {@link ConfigSource.next} for a revision that must not be applied; already recorded by the source. */
export class ConfigRejected extends Error {
  override readonly name = 'ConfigRejected';
  constructor(readonly revision: number | null, readonly configName: string, message: string) {
    super(message);
  }
}

/** A pluggable config source of `runPrimary`. */
export interface ConfigSource {
  /** The config to start with; throws (e.g. ConfigError) when there is none. */
  initial(): Promise<SourcedConfig>;
  /**
   * The config to reload to; throws when the candidate is invalid
   * (ConfigError / ConfigRejected). `force` (SIGHUP) reloads even when
   * nothing changed; without it (a change the source signalled) `null`
   * means there is nothing new to apply.
   */
  next(force: boolean): Promise<SourcedConfig | null>;
  /** Outcome of starting workers with a candidate from {@link next} (`reason` when not applied). */
  settled(candidate: SourcedConfig, applied: boolean, reason?: string): void;
  /** Starts watching; `changed` asks the primary to reload (reloads coalesce). */
  watch(changed: () => void, logger: Logger): void;
  /** For `/readyz` details and the `turnpike_config_revision` gauge. */
  details(): ConfigSourceDetails;
  /** Stops watching. */
  close(): Promise<void>;
}

/**
 * The default source: a YAML file, read at boot and on SIGHUP by `load`
 * (the CLI's loader, e.g. with the demo target rewrite). Nothing is watched.
 */
export function fileConfigSource(path: string, load: (path: string) => GatewayConfig): ConfigSource {
  let rejectedReason: string | null = null;
  function read(): SourcedConfig {
    try {
      const config = load(path);
      rejectedReason = null;
      return { config, revision: null, name: path };
    } catch (err) {
      rejectedReason = err instanceof Error ? err.message : String(err);
      throw err;
    }
  }
  return {
    initial: async () => read(),
    next: async () => read(),
    settled(_candidate, applied, reason) {
      rejectedReason = applied ? null : reason ?? 'the new workers did not start listening';
    },
    watch() { /* a file source reloads on SIGHUP only */ },
    details: () => ({ source: 'file', path, revision: null, rejectedRevision: null, rejectedReason }),
    close: async () => {},
  };
}

/** The source cannot produce a config to boot with (printed as one line by the CLI, exit 1). */
export class ConfigSourceError extends Error {
  override readonly name = 'ConfigSourceError';
}
