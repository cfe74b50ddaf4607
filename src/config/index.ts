/**
 * Configuration loading: YAML file → validated, normalised {@link GatewayConfig}.
 * @module
 */
export type * from './types.js';
export { loadConfig, parseConfig, resolveConfigPath, DEFAULT_CONFIG_PATH } from './load.js';
export { ConfigError, formatIssue, displayPath, type ConfigIssue, type ConfigPath } from './issues.js';
export { ENV_VARS, type EnvVar } from './env.js';
export { DEFAULTS } from './normalise.js';
export { gatewaySchema } from './schema-check.js';
export { parseDuration, parseSize, tryParseDuration, tryParseSize } from './units.js';
