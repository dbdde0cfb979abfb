import { describe, expect, it } from 'vitest';
import { severityClass, SEVERITY_CLASSES } from '../../src/query/summaries/log-histogram.js';
import { histogramQuantile } from '../../src/query/summaries/metric-series.js';
import { attributeCondition } from '../../src/query/summaries/trace-search.js';

describe('histogramQuantile', () => {
  const bounds = [10, 50, 100];
  it('interpolates inside the bucket that holds the rank', () => {
    // 10 in (10, 50]: the median is half-way through it.
    expect(histogramQuantile(0.5, [0, 10, 0, 0], bounds)).toBe(30);
    expect(histogramQuantile(0.9, [5, 5, 0, 0], bounds)).toBeCloseTo(42, 9);
  });
  it('clamps the open first and last buckets to the known bounds, and has no answer for an empty histogram', () => {
    expect(histogramQuantile(0.5, [4, 0, 0, 0], bounds)).toBe(5);
    expect(histogramQuantile(0.99, [0, 0, 0, 7], bounds)).toBe(100);
    expect(histogramQuantile(0.5, [0, 0, 0, 0], bounds)).toBeNull();
  });
});

describe('severityClass', () => {
  it('maps OTel severity numbers to their class, anything else to UNSPECIFIED', () => {
    expect([0, 1, 4, 5, 9, 13, 17, 21, 24, 25, null].map((n) => SEVERITY_CLASSES[severityClass(n)])).toEqual(['UNSPECIFIED', 'TRACE', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'FATAL', 'UNSPECIFIED', 'UNSPECIFIED']);
  });
});

describe('attributeCondition', () => {
  const columns = new Map([['http_response_status_code', 'int'], ['url_path', 'string']] as const);
  it('checks the maps and the promoted column, with a literal of the column type, quotes escaped', () => {
    expect(attributeCondition('url.path', "/a'b", columns)).toBe(`(attributes['url.path'] = '/a''b' OR resource_attributes['url.path'] = '/a''b' OR "url_path" = '/a''b')`);
    expect(attributeCondition('http.response.status_code', '500', columns)).toContain('OR "http_response_status_code" = 500)');
    // A value that does not fit the column's type can only be in the map.
    expect(attributeCondition('http.response.status_code', 'oops', columns)).not.toContain('http_response_status_code');
  });
});
