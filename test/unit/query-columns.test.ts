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
import { emptyInEveryRow, readColumnRange } from '../../src/query/columns.js';
import { PARSERS } from '../../src/parquet/source.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

function file(withLinks: boolean): ArrayBuffer {
  const spans = Array.from({ length: 300 }, (_, i) => ({
    ...jsonSpan({ startNs: T0_NS + BigInt(i), name: `s${i}`, attributes: i % 3 ? [{ key: 'k', value: { stringValue: `v${i}` } }] : [] }),
    events: i % 7 ? [] : [{ timeUnixNano: T0_NS.toString(), name: 'e', attributes: [] }],
    links: withLinks && i === 150 ? [{ traceId: hexId(16, 5), spanId: hexId(8, 6), attributes: [] }] : [],
  }));
  const req = decodeTraces('json', Buffer.from(JSON.stringify(jsonTraceRequest(spans))));
  const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
  const batches = convertTraces(req, partitioner, []).groups.map((g) => g.batch);
  // Small row groups, so ranges cross groups' pages and groups differ in what is empty.
  const bytes = encodeParquet(batches, new Map(), { compression: 'ZSTD', rowGroupSize: 100, pageSize: 1024, dictionaryEnabled: true, statisticsEnabled: true });
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
});
