/**
 * s3-parquet-connector as a library. The daemon (`s3-parquet-connector serve`) is built on the
 * same modules; `startDaemon` runs it in-process.
 *
 *   const connector = new S3ParquetConnector(S3Config.local('./lake'), ParquetConfig.create());
 *   await connector.write({ schema, records, partitionPath: 'date=2024-01-01' });
 *   const { records } = await connector.read({ partitionPath: 'date=2024-01-01', filter: 'status_code = 200' });
 */
export {
  S3ParquetConnector,
  type ConnectorOptions,
  type CreateWriterOptions,
  type IncrementalReadOptions,
  type IncrementalReadResult,
} from './library/connector.js';
export { RecordWriter, type RecordWriterOptions } from './library/record-writer.js';
export { S3Config, ParquetConfig, type EncryptionType } from './library/configs.js';
export { ParquetSchema, checkSchemaCompatibility } from './parquet/schema.js';
export { ParquetType, parquetTypeName, parseTypeAlias, type ParquetField, type ParquetTypeLike, type TimeUnit } from './parquet/types.js';
export { inferSchema, type InputRecord } from './library/records.js';
export {
  WriteOperation,
  ReadOperation,
  BatchWriteOperation,
  StreamingReadOperation,
  type WriteOptions,
  type ReadOptions,
  type BatchWriteOptions,
  type StreamingReadOptions,
  type WriteResult,
  type BatchWriteResult,
  type ReadResult,
} from './library/operations.js';
export {
  TimePartitioning,
  HashPartitioning,
  RangePartitioning,
  ValuePartitioning,
  stableBucket,
  type Partitioning,
  type Range,
} from './partitioning/strategies.js';
export { S3ParquetError, ERROR_CODES, type ErrorCode, type ErrorKind } from './errors.js';
export { ConfigError, type Config, type ConfigIssue } from './config/index.js';
export type { WriteMetrics, ReadMetrics, S3Metrics } from './metrics.js';
export type { JsonValue } from './query/json-values.js';
export { startDaemon, type Daemon, type DaemonOptions } from './daemon.js';
