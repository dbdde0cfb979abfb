import type { RecordBatch } from 'apache-arrow';

/** The records of one request that belong to one partition. */
export interface PartitionGroup {
  readonly partition: string;
  readonly batch: RecordBatch;
  /** Bytes the batch holds in memory, for buffer limits. */
  readonly bytes: number;
  readonly minTime: bigint;
  readonly maxTime: bigint;
}

/** A decoded request turned into batches, plus what OTLP partial success must report. */
export interface ConvertedRequest {
  readonly groups: readonly PartitionGroup[];
  readonly accepted: number;
  readonly rejected: number;
  /** The first problem, for `partial_success.error_message`; empty when nothing was rejected. */
  readonly errorMessage: string;
}
