#!/usr/bin/env node
/**
 * One entry point: `serve`, `check-config`, `--help`, `--version`.
 */
import { parseArgs } from 'node:util';
import { hostname } from 'node:os';
import { ConfigError, checkConfigPaths, loadConfig, renderConfigToml, walDirOf } from './config/index.js';
import { lockWalDir } from './wal/lock.js';
import { capYoungGeneration } from './runtime/young-generation.js';
import { S3ParquetError } from './errors.js';
import { VERSION } from './version.js';

const HELP = `s3-parquet-connector ${VERSION}
OpenTelemetry (OTLP) in, Hive-partitioned Parquet out (local directory or S3).

Usage:
  s3-parquet-connector serve [--config FILE]        run the daemon (default command)
  s3-parquet-connector check-config [--config FILE] print the effective configuration
  s3-parquet-connector query --dataset D [--filter EXPR] [--select a,b] [--limit N]
                       [--start RFC3339] [--end RFC3339] [--partition P] [--format table|ndjson]
  s3-parquet-connector partitions --dataset D [--prefix P] [--format table|ndjson]
  s3-parquet-connector tail --dataset D [--filter EXPR] [--select a,b] [--cursor C]
                       [--follow] [--interval-ms N]
                       records written since the cursor (default: the beginning of the
                       write log) as NDJSON; --follow keeps printing new ones as they land
  s3-parquet-connector log rebuild [--dataset D]
                       rebuild the write log from a listing (queries use it again)
  s3-parquet-connector compact [--dataset D] [--partition P] [--dry-run]
                       merge the small files of closed partitions now (docs/compaction.md)
  s3-parquet-connector ddl --engine duckdb|athena|trino|spark [--dataset D] [--schema S]
                       CREATE statements for the datasets over the configured location
  s3-parquet-connector --help | --version

Options:
  -c, --config FILE  TOML configuration; default ./s3-parquet.toml when present,
                     else built-in defaults (OTLP on 4317/4318, files under ./data)

Configuration:
  Every key, with its default and a comment: config.example.toml (copy it to
  s3-parquet.toml). check-config prints what a file resolves to.
  S3: set [s3] bucket (and region, endpoint for MinIO/radosgw); credentials come from the
  usual AWS chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, instance roles).
  Several daemons may share one bucket or directory; each needs its own [wal] dir.
  Documentation: README.md and docs/ (configuration, s3, durability, query, operations).
`;

/**
 * The young generation's cap for the daemon (MiB per semi-space): Node 22+ grows it to 64, which
 * cost ~50 MiB of RSS over the memory bound during a replay or a drain (issue 20). 16 is Node
 * 20's own maximum, so Node 20 is unchanged (a cap of 8 cost it ~3 % CPU per ingested span,
 * measured) and later versions behave as it does. An explicit `--max-semi-space-size` (command
 * line or NODE_OPTIONS) is the operator's choice.
 */
const SEMI_SPACE_MB = 16;

function capYoungGenerationUnlessSet(): void {
  const flags = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  if (flags.some((f) => f.startsWith('--max-semi-space-size'))) return;
  capYoungGeneration(SEMI_SPACE_MB);
}

async function serve(configPath: string | undefined): Promise<number> {
  capYoungGenerationUnlessSet();
  const config = loadConfig(configPath);
  // Before loading the daemon's modules (the AWS SDK, Arrow, gRPC: over a second of CPU), so a
  // bad path is reported at once.
  checkConfigPaths(config);
  // Likewise the write-ahead log's lock: a second daemon on the same log stops here, at once.
  const walLock = config.wal.enabled ? await lockWalDir(walDirOf(config), { instanceId: config.storage.instance_id || hostname() }) : undefined;
  const [{ startDaemon }, { createLogger }] = await Promise.all([import('./daemon.js'), import('./logger.js')]);
  const logger = createLogger(config.log.level);
  const daemon = await startDaemon(config, { logger, ...(walLock ? { walLock } : {}) }).catch(async (err: unknown) => {
    await walLock?.release();
    throw err;
  });
  await new Promise<void>((resolve) => {
    const onSignal = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
      // A JSON line like every other, so log shippers parse the shutdown too.
      logger.info({ signal }, 'signal received; flushing and shutting down');
      resolve();
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
  await daemon.stop();
  return 0;
}

function checkConfig(configPath: string | undefined): number {
  const config = loadConfig(configPath);
  process.stdout.write(renderConfigToml(config));
  return 0;
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
      dataset: { type: 'string', short: 'd' },
      filter: { type: 'string', short: 'f' },
      select: { type: 'string' },
      limit: { type: 'string' },
      start: { type: 'string' },
      end: { type: 'string' },
      partition: { type: 'string' },
      prefix: { type: 'string' },
      format: { type: 'string' },
      engine: { type: 'string', short: 'e' },
      schema: { type: 'string' },
      cursor: { type: 'string' },
      follow: { type: 'boolean', short: 'F' },
      'interval-ms': { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const command = positionals[0] ?? 'serve';
  switch (command) {
    case 'serve':
      return serve(values.config);
    case 'check-config':
      return checkConfig(values.config);
    case 'query': {
      const { queryCommand } = await import('./query/cli.js');
      return queryCommand(loadConfig(values.config), values, process.stdout);
    }
    case 'tail': {
      const { tailCommand } = await import('./query/cli.js');
      const stop = new AbortController();
      const onSignal = (): void => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        return await tailCommand(loadConfig(values.config), values, process.stdout, process.stderr, stop.signal);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    }
    case 'log': {
      const { logCommand } = await import('./log/cli.js');
      return logCommand(loadConfig(values.config), positionals[1], values, process.stdout);
    }
    case 'compact': {
      const { compactCommand } = await import('./compaction/cli.js');
      return compactCommand(loadConfig(values.config), values, process.stdout);
    }
    case 'partitions': {
      const { partitionsCommand } = await import('./query/cli.js');
      return partitionsCommand(loadConfig(values.config), values, process.stdout);
    }
    case 'ddl': {
      const { generateDdl, localFilesCheck } = await import('./ddl/index.js');
      if (values.engine === undefined) throw new S3ParquetError('INVALID_ARGUMENT', 'ddl needs --engine duckdb, athena, trino or spark');
      const config = loadConfig(values.config);
      const hasFiles = localFilesCheck(config);
      process.stdout.write(
        generateDdl(config, {
          engine: values.engine,
          ...(values.dataset !== undefined ? { dataset: values.dataset } : {}),
          ...(values.schema !== undefined ? { schema: values.schema } : {}),
          ...(hasFiles ? { hasFiles } : {}),
        }),
      );
      return 0;
    }
    default:
      process.stderr.write(`unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError || err instanceof S3ParquetError) {
      process.stderr.write(`error: ${err.message}\n`);
    } else if (err instanceof Error && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`error: ${err.message}\n\n${HELP}`);
    } else {
      process.stderr.write(`fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exitCode = 1;
  },
);
