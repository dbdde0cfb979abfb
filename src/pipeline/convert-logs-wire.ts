/**
 * The one-pass logs decoder: ExportLogsServiceRequest protobuf bytes → one Arrow record batch
 * per partition, with no intermediate message objects. Records are read into a reused
 * `WireLogRecord` (ranges of the body) and appended into the column builders; the resource and
 * scope of a group are decoded once (by protobufjs: they are few) and shared by every record.
 *
 * The request limits are checked in the same pass (limits.ts `WireGuard`), as in the traces
 * decoder: a body the walk would not call complete is dropped (nothing reached the buffers)
 * and goes the walk + protobufjs way (`decodeRequest`), with the same refusals and messages.
 * It must store exactly what `convertLogs` stores from protobufjs's decoding of the same bytes:
 * test/unit/one-pass-logs.test.ts proves that on the fuzz corpus, hand-built and recorded
 * exporter requests, and that it gives up on exactly the bodies the walk does not call complete.
 */
import { decodeRequest } from '../otlp/decode.js';
import { isNotClean, WireGuard } from '../otlp/limits.js';
import { otlpTypes } from '../otlp/proto-root.js';
import type { ExportLogsServiceRequest } from '../otlp/types.js';
import { groupResource, groupScope, headPlans, readRequestGroupsChecked, readWireGroupChecked, RESOURCE_DEPTH, SCOPE_DEPTH } from '../otlp/wire-group.js';
import { WireReader } from '../otlp/wire-reader.js';
import { resourceContext, scopeContext } from '../schema/common.js';
import { LogsBatchBuilder, validateWireLogRecord, wireLogEventTime } from '../schema/logs.js';
import type { PromotedSpec } from '../schema/promoted.js';
import type { AttributesCheck } from '../schema/wire-attributes.js';
import { logRecordPlans, WireLogRecord } from '../schema/wire-log-record.js';
import { PART_DEPTH } from '../schema/wire-span.js';
import { convertLogs } from './convert-logs.js';
import { RequestCollector, type ConvertedRequest } from './converted.js';
import type { Partitioner } from './partitioner.js';

export function convertLogsWire(body: Uint8Array, partitioner: Partitioner, promoted: readonly PromotedSpec[], receivedNs: bigint): ConvertedRequest {
  // `[[partitioning.keys]]` read record fields through the decoded shape; those setups keep it.
  if (partitioner.keysFor('logs').length > 0) return viaProtobufjs(body, partitioner, promoted, receivedNs);
  return convertLogsChecked(body, partitioner, promoted, receivedNs) ?? viaProtobufjs(body, partitioner, promoted, receivedNs);
}

/** The old road: the whole limits walk (its refusals and their messages), then protobufjs. */
function viaProtobufjs(body: Uint8Array, partitioner: Partitioner, promoted: readonly PromotedSpec[], receivedNs: bigint): ConvertedRequest {
  return convertLogs(decodeRequest('logs', 'protobuf', body) as ExportLogsServiceRequest, partitioner, promoted, receivedNs);
}

/**
 * The one pass, checking as it reads; undefined when the body is not one the limits walk would
 * call complete. Exported for the differential test.
 */
export function convertLogsChecked(body: Uint8Array, partitioner: Partitioner, promoted: readonly PromotedSpec[], receivedNs: bigint): ConvertedRequest | undefined {
  const out = new RequestCollector('log record', (rows) => new LogsBatchBuilder(promoted, rows));
  const r = new WireReader(body);
  const guard = new WireGuard(otlpTypes().ExportLogsServiceRequest, body);
  const check: AttributesCheck = { guard, plan: logRecordPlans().keyValue, depth: PART_DEPTH };
  const heads = headPlans();
  const rec = new WireLogRecord();
  try {
    const groups = readRequestGroupsChecked(r, guard);
    for (let gi = 0; gi < groups.length; gi += 2) {
      const rg = readWireGroupChecked(r, groups[gi]!, groups[gi + 1]!, guard, heads.resource, RESOURCE_DEPTH);
      const resource = resourceContext(groupResource(r, rg), r.text(rg.url0, rg.url1));
      const service = resource.serviceName;
      for (let si = 0; si < rg.children.length; si += 2) {
        const sg = readWireGroupChecked(r, rg.children[si]!, rg.children[si + 1]!, guard, heads.scope, SCOPE_DEPTH);
        const scope = scopeContext(groupScope(r, sg), r.text(sg.url0, sg.url1));
        const records = sg.children;
        for (let i = 0; i < records.length; i += 2) {
          rec.read(r, records[i]!, records[i + 1]!, guard);
          const problem = validateWireLogRecord(rec);
          if (problem !== null) {
            rec.checkParts(guard); // a refused record's bytes are checked all the same
            out.reject(problem);
            continue;
          }
          const time = wireLogEventTime(rec, receivedNs);
          const at = partitioner.placeTime(time, receivedNs);
          if (typeof at === 'string') {
            rec.checkParts(guard);
            out.reject(`timeUnixNano: ${at}`);
            continue;
          }
          const path = partitioner.pathFor(at, service);
          out.builder(path, (records.length - i) >> 1).appendWire(resource, scope, rec, r, time, check);
          out.accept();
        }
      }
    }
  } catch (err) {
    if (isNotClean(err)) return undefined;
    throw err;
  }
  return out.result();
}
