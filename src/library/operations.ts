/**
 * The operations the connector runs, as immutable fluent builders (`WriteOperation.create()
 * .withSchema(s).withRecords(r)…`). Every connector method also takes the plain option object
 * (`{schema, records, partitionPath}`), which is what each builder holds.
 */
import type { Partitioning } from '../partitioning/strategies.js';
import type { InputRecord } from './records.js';
import type { ParquetSchema } from '../parquet/schema.js';

export interface WriteOptions {
  readonly schema: ParquetSchema;
  readonly records: readonly InputRecord[];
  /** Directory of the file, relative to the store root (`service_name=web/date=2024-01-01`); default the root. */
  readonly partitionPath?: string;
  /** The file's name; default `{UTC time}-{instance}-{seq}.parquet`. `.parquet` is appended when missing. */
  readonly fileName?: string;
}

export interface ReadOptions {
  /** Every file below this path is read; default the whole store. */
  readonly partitionPath?: string;
  /** The query port's filter language: `status_code = 200 AND timestamp >= '2024-01-01'`. */
  readonly filter?: string;
  /** Fields to return; default every field of the files. */
  readonly selectFields?: readonly string[];
  readonly limit?: number;
}

export interface StreamingReadOptions extends ReadOptions {
  /** Records per yielded batch (default 1000). */
  readonly batchSize?: number;
}

export interface BatchWriteOptions {
  readonly records: readonly InputRecord[];
  /** Declared schema; without it the schema is inferred from the records. */
  readonly schema?: ParquetSchema;
  /** Partition levels, in order; without any, files go straight under `basePath`. */
  readonly partitioning?: readonly Partitioning[];
  /** A path under the store root that every partition goes below (e.g. `events`). */
  readonly basePath?: string;
  /** Worker threads encoding files at once (default 1: the calling thread). */
  readonly parallelism?: number;
  /** At most this many records per file (default 100,000). */
  readonly batchSize?: number;
}

abstract class Builder<T extends object> {
  protected constructor(readonly options: T) {}
}

export class WriteOperation extends Builder<Partial<WriteOptions>> {
  static create(): WriteOperation {
    return new WriteOperation({});
  }
  withSchema(schema: ParquetSchema): WriteOperation {
    return new WriteOperation({ ...this.options, schema });
  }
  withRecords(records: readonly InputRecord[]): WriteOperation {
    return new WriteOperation({ ...this.options, records });
  }
  withPartitionPath(partitionPath: string): WriteOperation {
    return new WriteOperation({ ...this.options, partitionPath });
  }
  withFileName(fileName: string): WriteOperation {
    return new WriteOperation({ ...this.options, fileName });
  }
}

export class ReadOperation extends Builder<ReadOptions> {
  static create(): ReadOperation {
    return new ReadOperation({});
  }
  withPartitionPath(partitionPath: string): ReadOperation {
    return new ReadOperation({ ...this.options, partitionPath });
  }
  withFilter(filter: string): ReadOperation {
    return new ReadOperation({ ...this.options, filter });
  }
  withSelectFields(selectFields: readonly string[]): ReadOperation {
    return new ReadOperation({ ...this.options, selectFields });
  }
  withLimit(limit: number): ReadOperation {
    return new ReadOperation({ ...this.options, limit });
  }
}

export class StreamingReadOperation extends Builder<StreamingReadOptions> {
  static create(): StreamingReadOperation {
    return new StreamingReadOperation({});
  }
  withPartitionPath(partitionPath: string): StreamingReadOperation {
    return new StreamingReadOperation({ ...this.options, partitionPath });
  }
  withFilter(filter: string): StreamingReadOperation {
    return new StreamingReadOperation({ ...this.options, filter });
  }
  withSelectFields(selectFields: readonly string[]): StreamingReadOperation {
    return new StreamingReadOperation({ ...this.options, selectFields });
  }
  withLimit(limit: number): StreamingReadOperation {
    return new StreamingReadOperation({ ...this.options, limit });
  }
  withBatchSize(batchSize: number): StreamingReadOperation {
    return new StreamingReadOperation({ ...this.options, batchSize });
  }
}

export class BatchWriteOperation extends Builder<Partial<BatchWriteOptions>> {
  static create(): BatchWriteOperation {
    return new BatchWriteOperation({});
  }
  withRecords(records: readonly InputRecord[]): BatchWriteOperation {
    return new BatchWriteOperation({ ...this.options, records });
  }
  withSchema(schema: ParquetSchema): BatchWriteOperation {
    return new BatchWriteOperation({ ...this.options, schema });
  }
  /** One or more strategies; several make nested levels in the order given. */
  withPartitioning(...partitioning: Partitioning[]): BatchWriteOperation {
    return new BatchWriteOperation({ ...this.options, partitioning });
  }
  withBasePath(basePath: string): BatchWriteOperation {
    return new BatchWriteOperation({ ...this.options, basePath });
  }
  withParallelism(parallelism: number): BatchWriteOperation {
    return new BatchWriteOperation({ ...this.options, parallelism });
  }
  withBatchSize(batchSize: number): BatchWriteOperation {
    return new BatchWriteOperation({ ...this.options, batchSize });
  }
}

/** The options an operation stands for, whether given as a builder or as plain options. */
export function optionsOf<T extends object>(op: Builder<T> | T): T {
  return op instanceof Builder ? (op.options as T) : op;
}

export interface WriteResult {
  readonly recordCount: number;
  /** The file's key relative to the store root. */
  readonly path: string;
  readonly bytesWritten: number;
}

export interface BatchWriteResult {
  readonly recordCount: number;
  readonly fileCount: number;
  readonly paths: readonly string[];
  readonly bytesWritten: number;
}

export interface ReadResult {
  readonly records: Record<string, import('../query/json-values.js').JsonValue>[];
}
