// Public surface of the configuration module. Explicit names (no `export *`) keep
// helpers such as the env-interpolation internals private.
export { ConfigError } from './errors.js';
export type { ConfigIssue } from './errors.js';
export { DEFAULT_CONFIG_FILE, defaultConfig, loadConfig, parseConfigText, validateConfigObject } from './load.js';
export type { LoadConfigOptions, ParseConfigOptions } from './load.js';
export { checkConfigPaths, walDirOf } from './path-check.js';
export { REDACTED, isSecretKey, redactConfig, renderConfigToml } from './redact.js';
export {
  COMPRESSIONS,
  GRANULARITIES,
  LOG_LEVELS,
  STORAGE_BACKENDS,
  configSchema,
  effectiveBackend,
  parseEndpoint,
} from './schema.js';
export type { Compression, Config, Granularity, LogLevel, StorageBackend } from './schema.js';
export { CREDENTIAL_TYPES, ENCRYPTION_TYPES, STORAGE_CLASSES } from './s3-schema.js';
