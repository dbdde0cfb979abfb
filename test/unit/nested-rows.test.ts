/**
 * readNestedRows (src/parquet/nested-rows.ts): a few rows of a list / map / struct column,
 * assembled from their slice of each page only, equal hyparquet's rows for any range — also
 * where one page holds the whole row group (what made lookups slow) — and anything it does not
 * cover returns undefined, so the caller reads the usual way.
 */
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { describe, expect, it } from 'vitest';
import { decodeTraces } from '../../src/otlp/decode.js';
import { encodeParquet } from '../../src/parquet/writer.js';
import { readNestedRows } from '../../src/parquet/nested-rows.js';
import { PageIndexCache } from '../../src/parquet/page-index.js';
import { PARSERS } from '../../src/parquet/source.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

/** 600 spans in groups of 300: events, attributes and links vary by row, some rows empty. */
function file(pageSize: number): ArrayBuffer {
  const spans = Array.from({ length: 600 }, (_, i) => ({
    ...jsonSpan({ startNs: T0_NS + BigInt(i), name: `s${i}`, attributes: i % 3 ? [{ key: 'k', value: { stringValue: `v${i}` } }, { key: 'n', value: { intValue: String(i) } }] : [] }),
    events:
      i % 5 === 0
        ? []
        : Array.from({ length: i % 4 }, (_, e) => ({ timeUnixNano: (T0_NS + BigInt(e)).toString(), name: `e${e}`, attributes: e % 2 ? [{ key: 'x', value: { stringValue: `${i}-${e}` } }] : [] })),
    links: i % 11 === 0 ? [{ traceId: hexId(16, i), spanId: hexId(8, i + 1), attributes: [{ key: 'l', value: { boolValue: true } }] }] : [],
  }));
  const req = decodeTraces('json', Buffer.from(JSON.stringify(jsonTraceRequest(spans))));
  const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
  const batches = convertTraces(req, partitioner, []).groups.map((g) => g.batch);
  const bytes = encodeParquet(batches, new Map(), { compression: 'ZSTD', rowGroupSize: 300, dictionaryEnabled: true, statisticsEnabled: true, pageSize, writeBatchRows: 16 });
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

const RANGES = [[0, 1], [7, 15], [150, 151], [16, 48], [0, 300], [299, 300], [100, 260]] as const;

describe('readNestedRows', () => {
  for (const pageSize of [1 << 20, 256]) {
    it(`equals hyparquet's rows for every nested column and range (${pageSize > 4096 ? 'one page a group' : 'many small pages'})`, async () => {
      const buf = file(pageSize);
      const metadata = parquetMetadata(buf);
      const schema = parquetSchema(metadata);
      const region = await new PageIndexCache().get('k', buf, metadata);
      expect(region).not.toBeNull();
      const nested = schema.children.filter((c) => c.children.length > 0);
      expect(nested.map((c) => c.element.name)).toEqual(expect.arrayContaining(['attributes', 'events', 'links', 'resource_attributes']));
      let groupStart = 0;
      let compared = 0;
      for (const rowGroup of metadata.row_groups) {
        for (const node of nested) {
          for (const [a, b] of RANGES) {
            const name = node.element.name;
            const expected = await parquetReadObjects({ file: buf, metadata, columns: [name], rowStart: groupStart + a, rowEnd: groupStart + b, compressors, parsers: PARSERS, utf8: true });
            const got = await readNestedRows(buf, schema, rowGroup, node, a, b, region!, { compressors, parsers: PARSERS, utf8: true });
            expect(got, `${name} rows ${a}–${b}`).toBeDefined();
            expect(Array.from(got!), `${name} rows ${a}–${b}`).toEqual(expected.map((r) => r[name]));
            compared++;
          }
        }
        groupStart += Number(rowGroup.num_rows);
      }
      expect(compared).toBe(metadata.row_groups.length * nested.length * RANGES.length);
    });
  }

  it('returns undefined (the caller reads the usual way) when the region holds no offset index for the column', async () => {
    const buf = file(4096);
    const metadata = parquetMetadata(buf);
    const schema = parquetSchema(metadata);
    const events = schema.children.find((c) => c.element.name === 'events')!;
    const got = await readNestedRows(buf, schema, metadata.row_groups[0]!, events, 3, 9, { start: 0, bytes: new ArrayBuffer(0) }, { compressors, parsers: PARSERS, utf8: true });
    expect(got).toBeUndefined();
  });
});
