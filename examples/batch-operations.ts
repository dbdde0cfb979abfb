/**
 * Advanced configuration (the classic connector's second example): a time-partitioned batch
 * write encoded on 4 worker threads, then a streaming read in batches of 1000.
 *
 *   npm run example -- batch-operations
 */
import {
  BatchWriteOperation,
  ParquetConfig,
  S3ParquetConnector,
  StreamingReadOperation,
  TimePartitioning,
} from '../src/index.js';
import { exampleStore } from './store.js';

export function generateTelemetryData(n = 10_000): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `span_${i}`,
    // Spread over three hours so the batch lands in three partitions.
    timestamp: new Date(Date.UTC(2024, 0, 1, i % 3, 0, i % 60)).toISOString(),
    service_name: 'web-service',
    duration_ms: 100 + (i % 200),
    status_code: i % 10 === 0 ? 500 : 200,
  }));
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<{ files: number; partitions: string[]; batches: number[] }> {
  const s3Config = exampleStore(env).withMultipartThreshold(100 * 1024 * 1024).withMaxConcurrentUploads(10).withRetryAttempts(3);
  const parquetConfig = ParquetConfig.create()
    .withCompression('SNAPPY')
    .withRowGroupSize(100_000)
    .withPageSize(1024 * 1024)
    .withDictionaryEnabled(true)
    .withStatisticsEnabled(true)
    .withBloomFilterEnabled(true, 'id');
  const connector = new S3ParquetConnector(s3Config, parquetConfig);
  try {
    const partitioning = TimePartitioning.create().withField('timestamp').withGranularity('hour').withFormat('%Y-%m-%d/%H');
    const result = await connector.batchWrite(
      BatchWriteOperation.create()
        .withRecords(generateTelemetryData())
        .withBasePath('service_name=web-service')
        .withPartitioning(partitioning)
        .withParallelism(4),
    );
    console.log(`Batch written ${result.fileCount} files (${result.recordCount} records, ${result.bytesWritten} bytes)`);

    const batches: number[] = [];
    const stream = connector.streamingRead(
      StreamingReadOperation.create().withPartitionPath('service_name=web-service').withFilter("timestamp >= '2024-01-01'").withBatchSize(1000),
    );
    for await (const batch of stream) {
      console.log(`Received batch with ${batch.records.length} records`);
      batches.push(batch.records.length);
    }
    const metrics = connector.getWriteMetrics();
    console.log(`Write latency ${metrics.avgLatency.toFixed(1)} ms, compression ratio ${metrics.compressionRatio.toFixed(2)}`);
    return { files: result.fileCount, partitions: await connector.listPartitions('service_name=web-service'), batches };
  } finally {
    await connector.close();
  }
}
