/**
 * Partitioning strategies: time, hash and range, alone and nested. Prints the partitions each
 * one made and the hash bucket SQL engines can compute themselves.
 *
 *   npm run example -- partitioning
 */
import {
  BatchWriteOperation,
  HashPartitioning,
  ParquetConfig,
  ParquetSchema,
  RangePartitioning,
  S3ParquetConnector,
  TimePartitioning,
} from '../src/index.js';
import { exampleStore } from './store.js';

const schema = ParquetSchema.empty()
  .withField('timestamp', 'timestamp', false)
  .withField('user_id', 'string', false)
  .withField('status_code', 'int32', false)
  .withField('latency_ms', 'double', true);

function records(n = 2_000): Record<string, unknown>[] {
  return Array.from({ length: n }, (_, i) => ({
    timestamp: new Date(Date.UTC(2024, 0, 1 + (i % 2), i % 24)).toISOString(),
    user_id: `user-${i % 97}`,
    status_code: [200, 201, 302, 404, 500, 503, 700][i % 7],
    latency_ms: (i % 50) * 1.5,
  }));
}

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<Record<string, string[]>> {
  const connector = new S3ParquetConnector(exampleStore(env), ParquetConfig.create());
  const layouts = {
    time: [TimePartitioning.create().withField('timestamp').withGranularity('day').withFormat('date=%Y-%m-%d')],
    hash: [HashPartitioning.create().withField('user_id').withNumPartitions(8)],
    range: [
      RangePartitioning.create()
        .withField('status_code')
        .withRanges([
          [0, 200, 'informational'],
          [200, 400, 'success'],
          [400, 500, 'client_error'],
          [500, 600, 'server_error'],
        ]),
    ],
    nested: [
      TimePartitioning.create().withField('timestamp').withGranularity('day').withFormat('date=%Y-%m-%d'),
      HashPartitioning.create().withField('user_id').withNumPartitions(4),
    ],
  };
  const out: Record<string, string[]> = {};
  try {
    for (const [name, partitioning] of Object.entries(layouts)) {
      await connector.deletePartition(`partitioning-example/${name}`);
      await connector.batchWrite(
        BatchWriteOperation.create().withSchema(schema).withRecords(records()).withBasePath(`partitioning-example/${name}`).withPartitioning(...partitioning),
      );
      out[name] = await connector.listPartitions(`partitioning-example/${name}`);
      console.log(`${name}: ${out[name].length} partitions, e.g. ${out[name].slice(0, 3).join(', ')}`);
    }
    console.log("Status codes outside every range (700) went to status_code_range=other.");
    console.log("A user's bucket in SQL: CAST('0x' || substr(md5(user_id), 1, 8) AS UBIGINT) % 8");
    return out;
  } finally {
    await connector.close();
  }
}
