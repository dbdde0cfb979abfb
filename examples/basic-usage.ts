/**
 * Basic usage (the classic connector's first example): define a schema, write records to a
 * partition path, read them back with a filter.
 *
 *   npm run example -- basic-usage
 *
 * In your own code, import from 's3-parquet-connector' instead of '../src/index.js'.
 */
import { ParquetConfig, ParquetSchema, ReadOperation, S3ParquetConnector, WriteOperation } from '../src/index.js';
import { exampleStore } from './store.js';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<{ written: number; path: string; matched: Record<string, unknown>[] }> {
  const parquetConfig = ParquetConfig.create().withCompression('SNAPPY').withRowGroupSize(100_000).withPageSize(1024 * 1024);
  const connector = new S3ParquetConnector(exampleStore(env), parquetConfig);
  try {
    const schema = ParquetSchema.empty()
      .withField('id', 'string', true)
      .withField('timestamp', 'timestamp', false)
      .withField('service_name', 'string', false)
      .withField('duration_ms', 'int64', false)
      .withField('status_code', 'int32', false);

    const result = await connector.write(
      WriteOperation.create()
        .withSchema(schema)
        .withRecords([
          { id: 'span_123', timestamp: '2024-01-01T00:00:00Z', service_name: 'web-service', duration_ms: 150, status_code: 200 },
          { id: 'span_124', timestamp: '2024-01-01T00:00:01Z', service_name: 'web-service', duration_ms: 420, status_code: 500 },
        ])
        .withPartitionPath('service_name=web-service/date=2024-01-01'),
    );
    console.log(`Written ${result.recordCount} records to ${result.path}`);

    const data = await connector.read(
      ReadOperation.create().withPartitionPath('service_name=web-service/date=2024-01-01').withFilter('status_code = 200'),
    );
    for (const record of data.records) console.log('Record:', JSON.stringify(record));
    return { written: result.recordCount, path: result.path, matched: data.records };
  } finally {
    await connector.close();
  }
}
