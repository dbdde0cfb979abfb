/**
 * The one-pass logs decoder: ExportLogsServiceRequest protobuf bytes → one Arrow record batch
 * per partition, with no intermediate message objects. Records are read into a reused
 * `WireLogRecord` (ranges of the body) and appended into the column builders; the resource and
 * scope of a group are decoded once (by protobufjs: they are few) and shared by every record.
 *
 * It runs only on bodies the limits walk went through completely (decode.ts `prepareRequest`),
 * and must store exactly what `convertLogs` stores from protobufjs's decoding of the same bytes:
 * test/unit/one-pass-logs-metrics.test.ts proves that on the fuzz corpus, hand-built and
 * recorded exporter requests.
 */
import { otlpTypes } from '../otlp/proto-root.js';
import type { ExportLogsServiceRequest } from '../otlp/types.js';
import { WireReader } from '../otlp/wire-reader.js';
import { LogsBatchBuilder, validateWireLogRecord, wireLogEventTime } from '../schema/logs.js';
import type { PromotedSpec } from '../schema/promoted.js';
import { WireLogRecord } from '../schema/wire-log-record.js';
import { convertLogs } from './convert-logs.js';
import { RequestCollector, type ConvertedRequest } from './converted.js';
import type { Partitioner } from './partitioner.js';
import { wireScopes } from './wire-scopes.js';

export function convertLogsWire(body: Uint8Array, partitioner: Partitioner, promoted: readonly PromotedSpec[], receivedNs: bigint): ConvertedRequest {
  // `[[partitioning.keys]]` read record fields through the decoded shape; those setups keep it.
  if (partitioner.keysFor('logs').length > 0) {
    return convertLogs(otlpTypes().ExportLogsServiceRequest.decode(body) as unknown as ExportLogsServiceRequest, partitioner, promoted, receivedNs);
  }
  const out = new RequestCollector('log record', () => new LogsBatchBuilder(promoted));
  const r = new WireReader(body);
  const rec = new WireLogRecord();
  for (const { resource, scope, records } of wireScopes(r)) {
    const service = resource.serviceName;
    for (let i = 0; i < records.length; i += 2) {
      rec.read(r, records[i]!, records[i + 1]!);
      const problem = validateWireLogRecord(rec);
      if (problem !== null) {
        out.reject(problem);
        continue;
      }
      const time = wireLogEventTime(rec, receivedNs);
      const at = partitioner.placeTime(time, receivedNs);
      if (typeof at === 'string') {
        out.reject(`timeUnixNano: ${at}`);
        continue;
      }
      const path = partitioner.pathFor(at, service);
      out.builder(path).appendWire(resource, scope, rec, r, time);
      out.accept();
    }
  }
  return out.result();
}
