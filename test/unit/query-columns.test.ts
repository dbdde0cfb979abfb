/**
 * readColumnRange (the query engine's reader): the same values as hyparquet's row objects, for
 * any row range, and list/map columns that are empty in every row of a row group are recognised
 * from the level histograms instead of being decoded.
 */
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { describe, expect, it } from 'vitest';
import { decodeTraces } from '../../src/otlp/decode.js';
import { encodeParquet } from '../../src/parquet/writer.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { emptyInEveryRow, readColumnRange, readMatchedRows } from '../../src/query/columns.js';
import { PARSERS } from '../../src/parquet/source.js';
import { PageIndexCache, pageIndexRange, rowRangeBytes } from '../../src/parquet/page-index.js';
import { coalesce, PrefetchBuffer } from '../../src/parquet/prefetch.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

function file(withLinks: boolean, columnEncodings: Record<string, 'PLAIN'> = {}, pages: { pageSize: number; writeBatchRows?: number } = { pageSize: 1024 }): ArrayBuffer {
  const spans = Array.from({ length: 300 }, (_, i) => ({
    ...jsonSpan({ startNs: T0_NS + BigInt(i), name: `s${i}`, attributes: i % 3 ? [{ key: 'k', value: { stringValue: `v${i}` } }] : [] }),
    events: i % 7 ? [] : [{ timeUnixNano: T0_NS.toString(), name: 'e', attributes: [] }],
    links: withLinks && i === 150 ? [{ traceId: hexId(16, 5), spanId: hexId(8, 6), attributes: [] }] : [],
  }));
  const req = decodeTraces('json', Buffer.from(JSON.stringify(jsonTraceRequest(spans))));
  const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
  const batches = convertTraces(req, partitioner, []).groups.map((g) => g.batch);
  // Small row groups, so ranges cross groups' pages and groups differ in what is empty.
  const bytes = encodeParquet(batches, new Map(), { compression: 'ZSTD', rowGroupSize: 100, dictionaryEnabled: true, statisticsEnabled: true, columnEncodings, ...pages });
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

const COLUMNS = ['name', 'attributes', 'scope_attributes', 'events', 'links', 'parent_span_id'];

describe('readColumnRange', () => {
  for (const withLinks of [false, true]) {
    it(`reads what parquetReadObjects reads (${withLinks ? 'one span with a link' : 'no links'})`, async () => {
      const buf = file(withLinks);
      const metadata = parquetMetadata(buf);
      let groupStart = 0;
      for (const rowGroup of metadata.row_groups) {
        const rows = Number(rowGroup.num_rows);
        for (const [a, b] of [[0, rows], [3, 17], [rows - 1, rows]] as const) {
          const expected = await parquetReadObjects({ file: buf, metadata, columns: COLUMNS, rowStart: groupStart + a, rowEnd: groupStart + b, compressors, parsers: PARSERS, utf8: true });
          const got = await readColumnRange(buf, metadata, { rowGroup, groupStart }, COLUMNS, groupStart + a, groupStart + b);
          const rowsGot = Array.from({ length: b - a }, (_, i) => Object.fromEntries(COLUMNS.map((c) => [c, got.get(c, groupStart + a + i)])));
          expect(rowsGot).toEqual(expected);
        }
        groupStart += rows;
      }
    });
  }

  it('through a PrefetchBuffer with the page index: the same values, in at most two requests a read', async () => {
    // Small pages (as the traces layout writes them): several pages a chunk, some ranges skip pages.
    const buf = file(true, { span_id: 'PLAIN', trace_id: 'PLAIN' }, { pageSize: 64, writeBatchRows: 10 });
    const metadata = parquetMetadata(buf);
    const all = parquetSchema(metadata).children.map((c) => c.element.name);
    const base = { byteLength: buf.byteLength, requests: 0, slice(start: number, end?: number): ArrayBuffer {
      this.requests++;
      return buf.slice(start, end);
    } };
    const region = await new PageIndexCache().get('k', base, metadata);
    expect(region).not.toBeNull();
    expect(base.requests).toBe(1);
    let groupStart = 0;
    for (const rowGroup of metadata.row_groups) {
      const rows = Number(rowGroup.num_rows);
      for (const [a, b] of [[0, rows], [3, 17], [40, 41], [rows - 1, rows]] as const) {
        const expected = await parquetReadObjects({ file: buf, metadata, columns: all, rowStart: groupStart + a, rowEnd: groupStart + b, compressors, parsers: PARSERS, utf8: true });
        const prefetching = new PrefetchBuffer(base, region);
        base.requests = 0;
        const got = await readColumnRange(prefetching, metadata, { rowGroup, groupStart }, all, groupStart + a, groupStart + b);
        expect(base.requests, `rows ${a}–${b}`).toBeLessThanOrEqual(2);
        const rowsGot = Array.from({ length: b - a }, (_, i) => Object.fromEntries(all.map((c) => [c, got.get(c, groupStart + a + i)])));
        expect(rowsGot).toEqual(expected);
      }
      groupStart += rows;
    }
  });

  it('rowRangeBytes: a narrow range needs fewer bytes than the whole group; without a page index, whole chunks', () => {
    const buf = file(true, { span_id: 'PLAIN' }, { pageSize: 64, writeBatchRows: 10 });
    const metadata = parquetMetadata(buf);
    const range = pageIndexRange(metadata)!;
    const region = { start: range.start, bytes: buf.slice(range.start, range.end) };
    const rg = metadata.row_groups[0]!;
    const size = (rs: { start: number; end: number }[]): number => rs.reduce((n, r) => n + r.end - r.start, 0);
    const whole = rowRangeBytes(rg, ['name', 'span_id'], 0, Number(rg.num_rows), region);
    const narrow = rowRangeBytes(rg, ['name', 'span_id'], 40, 41, region);
    expect(size(narrow)).toBeLessThan(size(whole) / 2);
    expect(rowRangeBytes(rg, ['name', 'span_id'], 40, 41, null)).toEqual(whole);
  });

  it('coalesce merges ranges closer than the gap, never beyond the size bound', () => {
    expect(coalesce([{ start: 50, end: 60 }, { start: 0, end: 10 }, { start: 12, end: 20 }], 2)).toEqual([{ start: 0, end: 20 }, { start: 50, end: 60 }]);
    expect(coalesce([{ start: 0, end: 10 }, { start: 5, end: 8 }], 0)).toEqual([{ start: 0, end: 10 }]);
    expect(coalesce([{ start: 0, end: 10 }, { start: 10, end: 20 }], 100, 15)).toEqual([{ start: 0, end: 10 }, { start: 10, end: 20 }]);
    expect(coalesce([{ start: 5, end: 5 }])).toEqual([]);
  });

  it('recognises list and map columns empty in every row of a group, and only those', () => {
    const buf = file(true);
    const metadata = parquetMetadata(buf);
    const schema = parquetSchema(metadata);
    const [g0, g1] = metadata.row_groups;
    expect(emptyInEveryRow(schema, g0!, 'links')).toEqual([]);
    expect(emptyInEveryRow(schema, g1!, 'links')).toBeUndefined(); // row 150 has a link
    expect(emptyInEveryRow(schema, g0!, 'scope_attributes')).toEqual({});
    expect(emptyInEveryRow(schema, g0!, 'events')).toBeUndefined();
    expect(emptyInEveryRow(schema, g0!, 'attributes')).toBeUndefined();
    expect(emptyInEveryRow(schema, g0!, 'name')).toBeUndefined(); // not nested
    expect(emptyInEveryRow(schema, g0!, 'no_such_column')).toBeUndefined();
  });

  it('readMatchedRows: the flagged rows hold what hyparquet reads, and sparse matches fetch fewer bytes than their span', async () => {
    const buf = file(true, { span_id: 'PLAIN', trace_id: 'PLAIN' }, { pageSize: 64, writeBatchRows: 10 });
    const metadata = parquetMetadata(buf);
    const all = parquetSchema(metadata).children.map((c) => c.element.name);
    const base = { byteLength: buf.byteLength, bytes: 0, slice(start: number, end?: number): ArrayBuffer {
      this.bytes += (end ?? buf.byteLength) - start;
      return buf.slice(start, end);
    } };
    const region = await new PageIndexCache().get('k', base, metadata);
    let groupStart = 0;
    for (const rowGroup of metadata.row_groups) {
      const rows = Number(rowGroup.num_rows);
      const expected = await parquetReadObjects({ file: buf, metadata, columns: all, rowStart: groupStart, rowEnd: groupStart + rows, compressors, parsers: PARSERS, utf8: true });
      for (const flagged of [[0], [rows - 1], [2, 3, 4], [5, rows - 5], [0, 33, 66, rows - 1]]) {
        const matches = new Uint8Array(rows);
        for (const r of flagged) matches[r] = 1;
        const first = groupStart + flagged[0]!;
        const last = groupStart + flagged[flagged.length - 1]! + 1;
        base.bytes = 0;
        // Prefetch gap 0 (through a buffer that merges nothing): bytes fetched are bytes needed.
        const sparse = new PrefetchBuffer(base, region);
        const prefetch = sparse.prefetch.bind(sparse);
        sparse.prefetch = (ranges) => prefetch(ranges, 0);
        const got = await readMatchedRows(sparse, metadata, { rowGroup, groupStart }, all, matches, first, last);
        const matchedBytes = base.bytes;
        for (const r of flagged) expect(Object.fromEntries(all.map((c) => [c, got.get(c, groupStart + r)])), `row ${r}`).toEqual(expected[r]);
        if (flagged.length === 2) {
          base.bytes = 0;
          const span = new PrefetchBuffer(base, region);
          const prefetchSpan = span.prefetch.bind(span);
          span.prefetch = (ranges) => prefetchSpan(ranges, 0);
          await readColumnRange(span, metadata, { rowGroup, groupStart }, all, first, last);
          expect(matchedBytes, 'two matches far apart').toBeLessThan(base.bytes);
        }
      }
      groupStart += rows;
    }
  });
});
