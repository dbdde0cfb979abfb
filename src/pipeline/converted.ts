import type { RecordBatch } from 'apache-arrow';
import { closeBatchMemory, openBatchMemory } from '../schema/batch-memory.js';

/** The records of one request that belong to one partition. */
export interface PartitionGroup {
  readonly partition: string;
  readonly batch: RecordBatch;
  /** Bytes the batch holds in memory, for buffer limits. */
  readonly bytes: number;
  /**
   * The slab the batch's arrays live in (schema/batch-memory.ts), when it has one: whoever
   * holds the batch whole until it is stored may give it back then (`releaseBatchMemory`).
   */
  readonly memory?: ArrayBuffer;
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

export interface DatasetBatchBuilder {
  readonly minTime: bigint;
  readonly maxTime: bigint;
  byteSize(): number;
  finish(): RecordBatch;
}

/**
 * Collects one request's records into one batch builder per partition and counts what was
 * rejected; every signal's converter is a loop around this.
 */
export class RequestCollector<B extends DatasetBatchBuilder> {
  private readonly builders = new Map<string, B>();
  private accepted = 0;
  private rejected = 0;
  private errorMessage = '';

  constructor(
    private readonly recordNoun: string,
    /** A new partition's builder; `rows` is how many records it may take (a start size, not a bound). */
    private readonly create: (rows?: number) => B,
  ) {}

  /**
   * The partition's builder (the caller appends the record, then calls `accept()`); records come
   * in runs of one partition, so the last one is kept at hand. `rows`: the records the group
   * being read still holds, when known, to size a new builder.
   */
  builder(partition: string, rows?: number): B {
    if (partition === this.lastPartition && this.lastBuilder !== undefined) return this.lastBuilder;
    let b = this.builders.get(partition);
    if (b === undefined) {
      b = this.create(rows);
      this.builders.set(partition, b);
    }
    this.lastPartition = partition;
    this.lastBuilder = b;
    return b;
  }

  private lastPartition = '';
  private lastBuilder: B | undefined;

  accept(): void {
    this.accepted++;
  }

  /** Counts a rejected record; the first problem becomes the partial-success message. */
  reject(problem: string): void {
    if (this.errorMessage === '') this.errorMessage = `${this.recordNoun} ${this.accepted + this.rejected}: ${problem}`;
    this.rejected++;
  }

  result(): ConvertedRequest {
    const groups: PartitionGroup[] = [];
    for (const [partition, b] of this.builders) {
      const bytes = b.byteSize();
      // The batch's arrays go into one slab (schema/batch-memory.ts), given back once stored.
      openBatchMemory(bytes);
      let batch: RecordBatch;
      let memory: ArrayBuffer | undefined;
      try {
        batch = b.finish();
      } finally {
        memory = closeBatchMemory();
      }
      groups.push({ partition, batch, bytes, minTime: b.minTime, maxTime: b.maxTime, ...(memory ? { memory } : {}) });
    }
    return { groups, accepted: this.accepted, rejected: this.rejected, errorMessage: this.errorMessage };
  }
}
