/**
 * The official OTel JS trace exporters (gRPC, HTTP/protobuf, HTTP/JSON) send real SDK spans to
 * the daemon; DuckDB, reading the Hive-partitioned files, must see every field as sent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { datasetGlob, DERIVED_END_TIME, duckdbQuery, type Row } from '../helpers/duckdb.js';
import { KIND_NAMES, STATUS_NAMES, exportSpans, hrTimeToNanos, makeExporter, makeTraceSpans, type Transport } from '../helpers/spans.js';

const TRANSPORTS: Transport[] = ['grpc', 'http-proto', 'http-json'];
const PROMOTED = new Set(['http.request.method', 'http.response.status_code', 'url.path', 'server.address']);

function attributeText(v: unknown): string {
  if (Array.isArray(v)) return JSON.stringify(v);
  return String(v);
}

/** What the attributes map must hold: everything not moved into a promoted column. */
function expectedMap(attrs: Record<string, unknown>, promotedTypes: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) {
    const fits = PROMOTED.has(k) && typeof v === promotedTypes[k];
    if (!fits) out[k] = attributeText(v);
  }
  return out;
}

describe('traces end to end with the official exporters', () => {
  let daemon: TestDaemon;
  const sent = new Map<Transport, ReadableSpan[]>();
  let rows: Row[];

  beforeAll(async () => {
    daemon = await startTestDaemon('[buffer]\nmax_age_seconds = 3600');
    for (const transport of TRANSPORTS) {
      const spans = makeTraceSpans(`svc-${transport}`);
      const exporter = makeExporter(transport, daemon.ports);
      await exportSpans(exporter, spans);
      await exporter.shutdown();
      sent.set(transport, spans);
    }
    await daemon.pipeline.flush();
    rows = await duckdbQuery(`
      SELECT trace_id, span_id, parent_span_id, trace_state, flags, name, kind,
             epoch_ns(start_time)::VARCHAR AS start_ns, epoch_ns(${DERIVED_END_TIME})::VARCHAR AS end_ns,
             duration_ns::VARCHAR AS duration_ns, status_code, status_message, service_name,
             to_json(resource_attributes)::VARCHAR AS resource_attributes, scope_name, scope_version,
             to_json(attributes)::VARCHAR AS attributes,
             to_json(list_transform(events, e -> {'time': epoch_ns(e.time)::VARCHAR, 'name': e.name, 'attributes': e.attributes}))::VARCHAR AS events,
             to_json(links)::VARCHAR AS links, dropped_attributes_count, dropped_events_count, dropped_links_count,
             http_request_method, http_response_status_code, url_path, server_address, host_name,
             date, hour, typeof(start_time) AS start_type
      FROM ${datasetGlob(daemon.store.description.replace('file://', ''), 'traces')}`);
  });

  afterAll(async () => {
    await daemon?.cleanup();
  });

  it('stores no end_time (schema version 3): the end is start_time + duration_ns, read as such below', async () => {
    const dir = daemon.store.description.replace('file://', '');
    const cols = await duckdbQuery(`SELECT DISTINCT name FROM parquet_schema('${dir}/traces/**/*.parquet') WHERE name IN ('start_time', 'end_time', 'duration_ns') ORDER BY name`);
    expect(cols.map((c) => c.name)).toEqual(['duration_ns', 'start_time']);
  });

  it('stores every span exactly once', () => {
    const total = [...sent.values()].reduce((n, s) => n + s.length, 0);
    expect(total).toBe(12);
    expect(rows).toHaveLength(total);
    expect(new Set(rows.map((r) => r.span_id)).size).toBe(total);
  });

  for (const transport of TRANSPORTS) {
    it(`keeps every field sent over ${transport}`, () => {
      for (const span of sent.get(transport)!) {
        const row = rows.find((r) => r.span_id === span.spanContext().spanId);
        expect(row, `span ${span.name}`).toBeDefined();
        const r = row!;
        expect(r.trace_id).toBe(span.spanContext().traceId);
        expect(r.parent_span_id).toBe(span.parentSpanContext?.spanId ?? null);
        expect(r.name).toBe(span.name);
        expect(r.kind).toBe(KIND_NAMES[span.kind]);
        // The low byte is W3C trace flags; bits 8-9 say whether the parent was remote (OTLP 1.1+).
        expect(Number(r.flags) & 0xff).toBe(span.spanContext().traceFlags);
        expect(r.start_type).toBe('TIMESTAMP_NS');
        expect(r.start_ns).toBe(hrTimeToNanos(span.startTime).toString());
        expect(r.end_ns).toBe(hrTimeToNanos(span.endTime).toString());
        expect(r.duration_ns).toBe((hrTimeToNanos(span.endTime) - hrTimeToNanos(span.startTime)).toString());
        expect(r.status_code).toBe(STATUS_NAMES[span.status.code]);
        expect(r.status_message).toBe(span.status.message || null);
        expect(r.service_name).toBe(`svc-${transport}`);
        // host.name has a dedicated column (schema version 2): it moved out of the map.
        const resource = JSON.parse(r.resource_attributes as string) as Record<string, string>;
        expect(resource).toMatchObject({ 'service.name': `svc-${transport}`, 'k8s.pod.uid': 'abc-123' });
        expect(resource['host.name']).toBeUndefined();
        expect(r.host_name).toBe('host-1');
        expect(r.scope_name).toBe('e2e-tracer');
        expect(r.scope_version).toBe('1.2.3');
        const attrs = span.attributes as Record<string, unknown>;
        expect(JSON.parse(r.attributes as string)).toEqual(
          expectedMap(attrs, { 'http.request.method': 'string', 'http.response.status_code': 'number', 'url.path': 'string', 'server.address': 'string' }),
        );
        expect(r.http_request_method).toBe((attrs['http.request.method'] as string | undefined) ?? null);
        expect(r.http_response_status_code).toBe(typeof attrs['http.response.status_code'] === 'number' ? String(attrs['http.response.status_code']) : null);
        expect(r.url_path).toBe((attrs['url.path'] as string | undefined) ?? null);
        expect(r.server_address).toBe((attrs['server.address'] as string | undefined) ?? null);
        const events = JSON.parse(r.events as string) as { time: string; name: string; attributes: Record<string, string> }[];
        expect(events).toEqual(
          span.events.map((e) => ({
            time: hrTimeToNanos(e.time).toString(),
            name: e.name,
            attributes: Object.fromEntries(Object.entries(e.attributes ?? {}).map(([k, v]) => [k, attributeText(v)])),
          })),
        );
        const links = JSON.parse(r.links as string) as Record<string, unknown>[];
        expect(links).toEqual(
          span.links.map((l) => ({
            trace_id: l.context.traceId,
            span_id: l.context.spanId,
            trace_state: null,
            attributes: Object.fromEntries(Object.entries(l.attributes ?? {}).map(([k, v]) => [k, attributeText(v)])),
            dropped_attributes_count: 0,
            flags: expect.any(Number),
          })),
        );
        expect([r.dropped_attributes_count, r.dropped_events_count, r.dropped_links_count]).toEqual(['0', '0', '0']);
      }
    });
  }

  it('partitions by event time, with late spans in their own past partition', () => {
    const late = rows.filter((r) => r.name === 'late-batch-job');
    expect(late).toHaveLength(3);
    for (const r of late) expect([r.date, r.hour]).toEqual(['2023-12-31', '00']);
    const onTime = rows.filter((r) => r.name !== 'late-batch-job');
    for (const r of onTime) expect([r.date, r.hour]).toEqual(['2024-01-01', '00']);
  });
});
