/**
 * Micro-benchmark: decode (protobufjs) and convert (decoded → Arrow batches) of the same
 * seeded trace requests, timed separately, against the one-pass decoder (bytes → Arrow, the
 * limits checked in the same pass), plus Parquet encoding of the result.
 *
 *   npx tsx bench/pipeline/convert-traces.ts [requests=64] [spansPerRequest=512]
 */
import { decodeTraces } from '../../src/otlp/decode.js';
import { encodeParquet } from '../../src/parquet/writer.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { convertTracesWire } from '../../src/pipeline/convert-traces-wire.js';
import { walkProtobuf } from '../../src/otlp/limits.js';
import { otlpTypes } from '../../src/otlp/proto-root.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { traceRequests } from '../load/traces.js';

const [requests = 64, perRequest = 512] = process.argv.slice(2).map(Number);
const payloads = traceRequests(42, requests, perRequest);
const partitioner = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false });
const promoted = ['http.request.method', 'http.response.status_code', 'url.path', 'server.address'].map(parsePromoted);
const spans = requests * perRequest;

function time<T>(label: string, rounds: number, fn: () => T): T {
  let out!: T;
  fn(); // warm-up
  // CPU time, not wall clock: the machine is shared, and CPU per span is what the issue counts.
  const c0 = process.cpuUsage();
  for (let i = 0; i < rounds; i++) out = fn();
  const c = process.cpuUsage(c0);
  const ms = (c.user + c.system) / 1000 / rounds;
  console.log(`${label.padEnd(32)} ${(ms / spans * 1e6).toFixed(0).padStart(6)} CPU ns/span  ${Math.round(spans / (ms / 1000)).toLocaleString('en').padStart(10)} spans per CPU-second`);
  return out;
}

const decoded = time('protobufjs decode', 5, () => payloads.map((p) => decodeTraces('protobuf', p)));
const converted = time('convert → Arrow', 5, () => decoded.map((d) => convertTraces(d, partitioner, promoted)));
time('walk + protobufjs + convert', 5, () => payloads.map((p) => convertTraces(decodeTraces('protobuf', p), partitioner, promoted)));
const traceType = otlpTypes().ExportTraceServiceRequest;
time('walk only (limits, wire types)', 5, () => payloads.map((p) => walkProtobuf(traceType, p, undefined)));
// The traces decoder checks the limits in its own pass (no walk before it since h-ingest5).
time('one pass (limits checked inside) → Arrow', 5, () => payloads.map((p) => convertTracesWire(p, partitioner, promoted)));
const batches = converted.flatMap((c) => c.groups.map((g) => g.batch));
for (const codec of ['ZSTD', 'SNAPPY', 'UNCOMPRESSED'] as const) {
  const opts = { compression: codec, rowGroupSize: 100_000, pageSize: 1 << 20, dictionaryEnabled: true, statisticsEnabled: true };
  const file = time(`parquet encode ${codec}`, 3, () => encodeParquet(batches, new Map(), opts));
  console.log(`${''.padEnd(28)} ${(file.length / spans).toFixed(1)} bytes/span`);
}
