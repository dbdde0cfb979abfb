/**
 * The query engine's page decompressors (src/parquet/decompressors.ts): ZSTD through zstd's
 * WebAssembly decoder once loaded, byte-identical to fzstd on the pages of a file this project
 * writes; a damaged page is a thrown error, not a crash or a hang.
 */
import { parquetMetadata } from 'hyparquet';
import { parquetHeader } from 'hyparquet/src/column.js';
import { compressors } from 'hyparquet-compressors';
import { describe, expect, it } from 'vitest';
import { decodeTraces } from '../../src/otlp/decode.js';
import { COMPRESSORS, zstdReady } from '../../src/parquet/decompressors.js';
import { encodeParquet } from '../../src/parquet/writer.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { T0_NS, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

function pages(): { bytes: Uint8Array; length: number }[] {
  const spans = Array.from({ length: 2000 }, (_, i) => jsonSpan({ startNs: T0_NS + BigInt(i), name: `span ${i % 17}`, attributes: [{ key: 'k', value: { stringValue: `v${i % 101}` } }] }));
  const req = decodeTraces('json', Buffer.from(JSON.stringify(jsonTraceRequest(spans))));
  const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
  const batches = convertTraces(req, partitioner, []).groups.map((g) => g.batch);
  const out = encodeParquet(batches, new Map(), { compression: 'ZSTD', rowGroupSize: 1000, dictionaryEnabled: true, statisticsEnabled: true, pageSize: 4096 });
  const buf = out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength) as ArrayBuffer;
  const found: { bytes: Uint8Array; length: number }[] = [];
  for (const rg of parquetMetadata(buf).row_groups) {
    for (const c of rg.columns) {
      const md = c.meta_data!;
      const start = Number(md.dictionary_page_offset || md.data_page_offset);
      const reader = { view: new DataView(buf), offset: start };
      while (reader.offset < start + Number(md.total_compressed_size)) {
        const header = parquetHeader(reader);
        found.push({ bytes: new Uint8Array(buf, reader.offset, header.compressed_page_size), length: header.uncompressed_page_size });
        reader.offset += header.compressed_page_size;
      }
    }
  }
  return found;
}

describe('COMPRESSORS.ZSTD', () => {
  it('decodes every page of a written file exactly as fzstd does, once the WebAssembly decoder is in use', async () => {
    expect(await zstdReady).toBe(true);
    const all = pages();
    expect(all.length).toBeGreaterThan(50);
    for (const { bytes, length } of all) {
      const got = COMPRESSORS.ZSTD!(bytes, length);
      expect(got.length).toBe(length);
      expect(Buffer.from(got).equals(Buffer.from(compressors.ZSTD!(bytes, length)))).toBe(true);
    }
  });

  it('a damaged page throws', async () => {
    await zstdReady;
    const { bytes, length } = pages().find((p) => p.bytes.length > 64)!;
    const damaged = Uint8Array.from(bytes);
    damaged.fill(0xff, 6, damaged.length);
    expect(() => COMPRESSORS.ZSTD!(damaged, length)).toThrow();
  });
});
