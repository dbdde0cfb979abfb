/** ExportLogsServiceRequest → one Arrow record batch per partition (by event time). */
import { resourceContext, scopeContext } from '../schema/common.js';
import { LogsBatchBuilder, logEventTime, validateLogRecord } from '../schema/logs.js';
import type { PromotedSpec } from '../schema/promoted.js';
import type { ExportLogsServiceRequest } from '../otlp/types.js';
import type { Partitioner } from './partitioner.js';
import { RequestCollector, type ConvertedRequest } from './converted.js';
import { logKeyFields } from './key-fields.js';

export function convertLogs(
  request: ExportLogsServiceRequest,
  partitioner: Partitioner,
  promoted: readonly PromotedSpec[],
  receivedNs: bigint,
): ConvertedRequest {
  const out = new RequestCollector('log record', () => new LogsBatchBuilder(promoted));
  const keys = partitioner.keysFor('logs');
  for (const rl of request.resourceLogs) {
    const resource = resourceContext(rl.resource, rl.schemaUrl);
    for (const sl of rl.scopeLogs) {
      const scope = scopeContext(sl.scope, sl.schemaUrl);
      for (const rec of sl.logRecords) {
        const problem = validateLogRecord(rec);
        if (problem !== null) {
          out.reject(problem);
          continue;
        }
        const time = logEventTime(rec, receivedNs);
        const at = partitioner.placeTime(time, receivedNs);
        if (typeof at === 'string') {
          out.reject(`timeUnixNano: ${at}`);
          continue;
        }
        const fields = keys.length > 0 ? logKeyFields(resource, rec) : undefined;
        out.builder(partitioner.pathFor(at, resource.serviceName, keys, fields)).append(resource, scope, rec, time);
        out.accept();
      }
    }
  }
  return out.result();
}
