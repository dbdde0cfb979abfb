/**
 * The official OTel JS log exporters (gRPC, HTTP/protobuf, HTTP/JSON) send SDK log records of
 * every severity and body kind; DuckDB reads every field back as sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { datasetGlob, duckdbQuery, type Row } from '../helpers/duckdb.js';
import { BODIES, SPAN_ID, TRACE_ID, exportLogs, makeLogExporter, makeLogRecords } from '../helpers/logs.js';
import { hrTimeToNanos, type Transport } from '../helpers/spans.js';

const TRANSPORTS: Transport[] = ['grpc', 'http-proto', 'http-json'];

function expectedBody(body: unknown): unknown {
  if (body instanceof Uint8Array) return Buffer.from(body).toString('base64');
  return body;
}

describe('logs end to end with the official exporters', () => {
  let daemon: TestDaemon;
  const sent = new Map<Transport, ReadableLogRecord[]>();
  let rows: Row[];

  beforeAll(async () => {
    daemon = await startTestDaemon('[buffer]\nmax_age_seconds = 3600');
    for (const transport of TRANSPORTS) {
      const records = await makeLogRecords(`logsvc-${transport}`);
      const exporter = makeLogExporter(transport, daemon.ports);
      await exportLogs(exporter, records);
      await exporter.shutdown();
      sent.set(transport, records);
    }
    await daemon.pipeline.flush();
    rows = await duckdbQuery(`
      SELECT epoch_ns(time)::VARCHAR AS time_ns, epoch_ns(observed_time)::VARCHAR AS observed_ns, severity_number,
             severity_text, body, body_type, trace_id, span_id, flags, event_name, service_name, scope_name, scope_version,
             to_json(attributes)::VARCHAR AS attributes, to_json(resource_attributes)::VARCHAR AS resource_attributes,
             http_request_method, deployment_environment_name, date, hour
      FROM ${datasetGlob(daemon.dir + '/data', 'logs')}`);
  });
  afterAll(async () => {
    await daemon?.cleanup();
  });

  it('stores every record exactly once', () => {
    expect(rows).toHaveLength(3 * 24);
  });

  for (const transport of TRANSPORTS) {
    it(`keeps every field sent over ${transport}`, () => {
      const mine = rows.filter((r) => r.service_name === `logsvc-${transport}`);
      expect(mine).toHaveLength(24);
      for (const rec of sent.get(transport)!) {
        const sev = rec.severityNumber!;
        const r = mine.find((x) => x.severity_number === sev);
        expect(r, `severity ${sev}`).toBeDefined();
        expect(r!.time_ns).toBe(hrTimeToNanos(rec.hrTime).toString());
        expect(r!.observed_ns).toBe(hrTimeToNanos(rec.hrTimeObserved).toString());
        expect(r!.severity_text).toBe(`SEV${sev}`);
        const kind = BODIES[sev % BODIES.length]!;
        expect(r!.body_type).toBe(kind.type);
        const body = r!.body as string;
        expect(kind.type === 'string' ? body : JSON.parse(body)).toEqual(expectedBody(rec.body));
        expect(r!.trace_id).toBe(sev % 2 === 0 ? TRACE_ID : null);
        expect(r!.span_id).toBe(sev % 2 === 0 ? SPAN_ID : null);
        expect(Number(r!.flags) & 0xff).toBe(sev % 2 === 0 ? 1 : 0);
        expect(r!.event_name).toBe(sev === 24 ? 'app.checkout.done' : null);
        expect(r!.scope_name).toBe('e2e-logger');
        expect(r!.scope_version).toBe('0.9.0');
        expect(r!.http_request_method).toBe('POST');
        expect(JSON.parse(r!.attributes as string)).toEqual({ 'app.seq': String(sev), 'app.list': '["x","y"]' });
        // deployment.environment.name has a dedicated column (schema version 2): it moved out of the map.
        const resource = JSON.parse(r!.resource_attributes as string) as Record<string, string>;
        expect(resource).toMatchObject({ 'service.name': `logsvc-${transport}` });
        expect(resource['deployment.environment.name']).toBeUndefined();
        expect(r!.deployment_environment_name).toBe('test');
        expect([r!.date, r!.hour]).toEqual(['2024-01-01', '00']);
      }
    });
  }
});
