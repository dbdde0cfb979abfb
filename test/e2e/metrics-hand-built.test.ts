/**
 * What the JS SDK cannot produce — a Summary, an int gauge at 2^53+1, exemplars — sent as
 * hand-built OTLP/JSON and protobuf; DuckDB reads it back exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { datasetGlob, duckdbQuery } from '../helpers/duckdb.js';
import { T0_NS } from '../helpers/otlp.js';
import { toProtobuf } from '../helpers/otlp-requests.js';

const TRACE = '5b8efff798038103d269b633813fc60c';
const SPAN = 'eee19b7ec3c1b174';

function request(tag: string): Record<string, unknown> {
  return {
    resourceMetrics: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: tag } }] },
        scopeMetrics: [
          {
            scope: { name: 'hand', version: '1' },
            metrics: [
              {
                name: 'rpc.duration.summary',
                unit: 's',
                summary: {
                  dataPoints: [
                    {
                      startTimeUnixNano: (T0_NS - 60_000_000_000n).toString(),
                      timeUnixNano: T0_NS.toString(),
                      count: '10',
                      sum: 4.5,
                      quantileValues: [
                        { quantile: 0, value: 0.1 },
                        { quantile: 0.5, value: 0.4 },
                        { quantile: 0.99, value: 1.25 },
                        { quantile: 1, value: 1.5 },
                      ],
                      attributes: [{ key: 'rpc.method', value: { stringValue: 'Get' } }],
                    },
                  ],
                },
              },
              {
                name: 'queue.depth',
                gauge: {
                  dataPoints: [
                    {
                      timeUnixNano: (T0_NS + 1n).toString(),
                      asInt: '9007199254740993',
                      attributes: [{ key: 'queue', value: { stringValue: 'q1' } }],
                      exemplars: [{ timeUnixNano: (T0_NS + 1n).toString(), asInt: '7', traceId: TRACE, spanId: SPAN, filteredAttributes: [{ key: 'user', value: { stringValue: 'u1' } }] }],
                    },
                    { timeUnixNano: (T0_NS + 2n).toString(), asInt: '-5', attributes: [{ key: 'queue', value: { stringValue: 'q2' } }] },
                  ],
                },
              },
            ],
          },
        ],
      },
    ],
  };
}

describe('hand-built Summary and int gauge', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon('[buffer]\nmax_age_seconds = 3600');
    const json = await fetch(d.httpUrl('/v1/metrics'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request('hand-json')) });
    expect(json.status).toBe(200);
    const proto = await fetch(d.httpUrl('/v1/metrics'), { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: toProtobuf('metrics', request('hand-proto')) });
    expect(proto.status).toBe(200);
    await d.pipeline.flush();
  });
  afterAll(async () => {
    await d?.cleanup();
  });

  for (const tag of ['hand-json', 'hand-proto']) {
    it(`stores the summary exactly (${tag})`, async () => {
      const rows = await duckdbQuery(`
        SELECT metric_type, metric_unit, count::VARCHAR AS count, sum, to_json(quantiles)::VARCHAR AS q, value, aggregation_temporality,
               epoch_ns(start_time)::VARCHAR AS start_ns, epoch_ns(time)::VARCHAR AS time_ns, attributes['rpc.method'] AS method
        FROM ${datasetGlob(d.dir + '/data', 'metrics')} WHERE service_name = '${tag}' AND metric_name = 'rpc.duration.summary'`);
      expect(rows).toHaveLength(1);
      const r = rows[0]!;
      expect(r).toMatchObject({ metric_type: 'SUMMARY', metric_unit: 's', count: '10', sum: 4.5, value: null, aggregation_temporality: null, method: 'Get' });
      expect(JSON.parse(r.q as string)).toEqual([
        { quantile: 0, value: 0.1 },
        { quantile: 0.5, value: 0.4 },
        { quantile: 0.99, value: 1.25 },
        { quantile: 1, value: 1.5 },
      ]);
      expect(r.start_ns).toBe((T0_NS - 60_000_000_000n).toString());
      expect(r.time_ns).toBe(T0_NS.toString());
    });

    it(`stores int gauges exactly, with exemplars (${tag})`, async () => {
      const rows = await duckdbQuery(`
        SELECT attributes['queue'] AS queue, value_is_int, value_int::VARCHAR AS value_int, value, metric_type,
               to_json(list_transform(exemplars, e -> {'time': epoch_ns(e.time)::VARCHAR, 'value': e.value, 'value_int': e.value_int::VARCHAR, 'trace_id': e.trace_id, 'span_id': e.span_id, 'attrs': e.filtered_attributes}))::VARCHAR AS ex
        FROM ${datasetGlob(d.dir + '/data', 'metrics')} WHERE service_name = '${tag}' AND metric_name = 'queue.depth' ORDER BY queue`);
      expect(rows.map((r) => [r.queue, r.metric_type, r.value_is_int, r.value_int, r.value])).toEqual([
        ['q1', 'GAUGE', true, '9007199254740993', 9007199254740992],
        ['q2', 'GAUGE', true, '-5', -5],
      ]);
      expect(JSON.parse(rows[0]!.ex as string)).toEqual([{ time: (T0_NS + 1n).toString(), value: 7, value_int: '7', trace_id: TRACE, span_id: SPAN, attrs: { user: 'u1' } }]);
      expect(JSON.parse(rows[1]!.ex as string)).toEqual([]);
    });
  }
});
