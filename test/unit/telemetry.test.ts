/** Pieces of src/telemetry.ts and src/metrics.ts that need a fake clock or no daemon. */
import { describe, expect, it } from 'vitest';
import { defaultConfig, parseConfigText } from '../../src/config/index.js';
import { DaemonMetrics, rejectReason } from '../../src/metrics.js';
import { LogRateLimiter, telemetryPlacement } from '../../src/telemetry.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus.js';

describe('LogRateLimiter', () => {
  it('lets N lines per window through per key and reports the suppressed count on the next one', () => {
    let now = 0;
    const limiter = new LogRateLimiter(3, 10_000, () => now);
    expect([1, 2, 3, 4, 5].map(() => limiter.take('a'))).toEqual([0, 0, 0, null, null]);
    expect(limiter.take('b')).toBe(0); // keys are independent
    now = 9_999;
    expect(limiter.take('a')).toBeNull();
    now = 10_000;
    expect(limiter.take('a')).toBe(3); // a new window: the three suppressed lines are counted
    expect(limiter.take('a')).toBe(0);
  });
});

describe('rejectReason', () => {
  it('names the first refused record’s problem', () => {
    expect(rejectReason('span 2: invalid trace_id: expected 16 non-zero bytes')).toBe('invalid_trace_id');
    expect(rejectReason('point 2: exemplar 0: invalid span_id: expected 8 bytes')).toBe('invalid_span_id');
    expect(rejectReason('point 0: metric "x" has no data (gauge, sum, …)')).toBe('no_data');
    expect(rejectReason('something else')).toBe('invalid_record');
  });
});

describe('telemetryPlacement', () => {
  it('follows [telemetry] and [query]', () => {
    expect(defaultConfig().telemetry).toEqual({ enabled: true, endpoint: '' });
    expect(telemetryPlacement(defaultConfig())).toEqual({ kind: 'query-port' });
    expect(telemetryPlacement(parseConfigText('[telemetry]\nendpoint = "127.0.0.1:8081"'))).toEqual({ kind: 'query-port' });
    expect(telemetryPlacement(parseConfigText('[query]\nenabled = false'))).toEqual({ kind: 'own', host: '127.0.0.1', port: 8081 });
    expect(telemetryPlacement(parseConfigText('[telemetry]\nendpoint = "0.0.0.0:9464"'))).toEqual({ kind: 'own', host: '0.0.0.0', port: 9464 });
    expect(telemetryPlacement(parseConfigText('[telemetry]\nenabled = false'))).toEqual({ kind: 'off' });
    expect(() => parseConfigText('[telemetry]\nendpoint = "nope"')).toThrow(/telemetry\.endpoint/);
  });
});

describe('DaemonMetrics', () => {
  it('keeps one registry per instance and computes the library averages', async () => {
    let now = 1_000;
    const a = new DaemonMetrics({ now: () => now, defaultMetrics: false });
    const b = new DaemonMetrics({ now: () => now, defaultMetrics: false });
    a.observeFile('traces', 100, 1_000);
    a.observeFile('traces', 50, 500);
    a.observeFlush('traces', 6_000, 1_500, 0.2);
    a.observeStoreRequest('putObject', true, 10);
    a.observeStoreRequest('putObject', false, 30);
    a.observeQuery(7, 4);
    now = 3_000;
    expect(a.getWriteMetrics()).toEqual({ avgLatency: 200, throughput: 75, compressionRatio: 4, filesWritten: 2, recordsWritten: 150, bytesWritten: 1_500 });
    expect(a.getS3Metrics()).toEqual({ requestCount: 2, errorCount: 1, avgLatency: 20 });
    expect(a.getReadMetrics()).toEqual({ avgLatency: 4, throughput: 3.5, queries: 1, recordsReturned: 7 });
    const ta = parsePrometheusText(await a.text());
    const tb = parsePrometheusText(await b.text());
    expect(sampleValue(ta, 's3parquet_files_written_total', { dataset: 'traces' })).toBe(2);
    expect(sampleValue(tb, 's3parquet_files_written_total', { dataset: 'traces' })).toBe(0);
    expect(sampleValue(ta, 's3parquet_compression_ratio', { dataset: 'traces' })).toBe(4);
    expect(sampleValue(ta, 's3parquet_store_requests_total', { operation: 'putObject', outcome: 'error' })).toBe(1);
    expect(ta.has('process_cpu_user_seconds_total')).toBe(false); // default metrics off here
  });
});
