/** One pino logger for the daemon: JSON lines on stdout, level from config or LOG_LEVEL. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level: process.env.LOG_LEVEL ?? level,
    base: { name: 's3-parquet-connector' },
    // Defence in depth: secrets are never logged on purpose, and these paths are censored if
    // a config object ever is.
    redact: {
      paths: ['*.secret_access_key', '*.session_token', '*.token', '*.password', 'authorization', '*.authorization', '*.receiver_tokens', '*.query_tokens'],
      censor: '***redacted***',
    },
  };
  return destination ? pino(options, destination) : pino(options);
}
