/**
 * Compresses the pages of an UNCOMPRESSED Parquet file with a codec at a chosen level, changing
 * nothing else a reader sees: the same pages (encodings, values, row boundaries), statistics,
 * column and offset indexes, footer key-value metadata and schema. Only byte positions and sizes
 * move, and the codec recorded per column chunk.
 *
 * Why: parquet-wasm 0.8 (our encoder) takes a codec but no level (ZSTD is always level 1, GZIP
 * and BROTLI their crate defaults). Letting it encode UNCOMPRESSED and compressing each page
 * here keeps every encoding choice of the storage layouts and only swaps the compressor, which
 * a wholesale writer change (hyparquet-writer: 2.7× the CPU on our flat columns) could not
 * promise (bench/writer/levels.ts; the h-writer section of bench/RESULTS.md).
 *
 * Layout handled: what parquet-rs writes — column chunks (an optional dictionary page, then data
 * pages V1 or V2), then column indexes, offset indexes and native bloom filters, then the footer.
 * Anything else between the magic bytes and the footer is refused rather than dropped.
 */
import { T, ThriftReader, ThriftWriter, field, removeField, setInt, type ThriftList, type ThriftStruct } from './thrift-compact.js';

/** parquet-format's CompressionCodec values. */
export const CODEC_ID = { UNCOMPRESSED: 0, SNAPPY: 1, GZIP: 2, BROTLI: 4, ZSTD: 6 } as const;

export type PageCompressor = (page: Uint8Array) => Uint8Array;

const MAGIC = 0x31524150; // "PAR1" little-endian
const PAGE_DATA_V2 = 3;

// Field ids of parquet.thrift.
const FILE_ROW_GROUPS = 4;
const RG_COLUMNS = 1;
const RG_TOTAL_BYTE_SIZE = 2;
const RG_FILE_OFFSET = 5;
const RG_TOTAL_COMPRESSED = 6;
const CC_FILE_OFFSET = 2;
const CC_META = 3;
const CC_OFFSET_INDEX_OFFSET = 4;
const CC_OFFSET_INDEX_LENGTH = 5;
const CC_COLUMN_INDEX_OFFSET = 6;
const CC_COLUMN_INDEX_LENGTH = 7;
const CM_CODEC = 4;
const CM_TOTAL_UNCOMPRESSED = 6;
const CM_TOTAL_COMPRESSED = 7;
const CM_DATA_PAGE_OFFSET = 9;
const CM_INDEX_PAGE_OFFSET = 10;
const CM_DICTIONARY_PAGE_OFFSET = 11;
const CM_BLOOM_OFFSET = 14;
const CM_BLOOM_LENGTH = 15;
const PH_TYPE = 1;
const PH_UNCOMPRESSED_SIZE = 2;
const PH_COMPRESSED_SIZE = 3;
const PH_CRC = 4;
const PH_DATA_V2 = 8;
const V2_DEF_LENGTH = 5;
const V2_REP_LENGTH = 6;
const V2_IS_COMPRESSED = 7;
const OI_PAGE_LOCATIONS = 1;
const PL_OFFSET = 1;
const PL_COMPRESSED_SIZE = 2;

class RecompressError extends Error {}

function int(struct: ThriftStruct, id: number): number | undefined {
  const f = field(struct, id);
  if (f === undefined) return undefined;
  return Number(f.value as number | bigint);
}

function sub(struct: ThriftStruct, id: number): ThriftStruct {
  const f = field(struct, id);
  if (!f || f.type !== T.STRUCT) throw new RecompressError(`field ${id} is not a struct`);
  return f.value as ThriftStruct;
}

function list(struct: ThriftStruct, id: number): ThriftStruct[] {
  const f = field(struct, id);
  if (!f || f.type !== T.LIST) throw new RecompressError(`field ${id} is not a list`);
  return (f.value as ThriftList).items as ThriftStruct[];
}

/** A blob placed after the column chunks: copied as is (or re-encoded), its offset fields updated. */
interface Trailer {
  readonly offset: number;
  readonly length: number;
  readonly chunk: ThriftStruct;
  readonly kind: 'column-index' | 'offset-index' | 'bloom';
  /** Old page offset → new offset and size (header + body), for the offset index. */
  readonly pages: Map<number, [number, number]>;
}

/**
 * Rewrites `file` (every column chunk UNCOMPRESSED) with each page compressed by `compress`,
 * recorded as codec `codec`. Throws on a layout it does not know (never drops bytes).
 */
export function recompressPages(file: Uint8Array, codec: number, compress: PageCompressor): Uint8Array {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 12 || view.getUint32(0, true) !== MAGIC || view.getUint32(file.length - 4, true) !== MAGIC) {
    throw new RecompressError('not a plain Parquet file (magic bytes)');
  }
  const footerLength = view.getUint32(file.length - 8, true);
  const footerStart = file.length - 8 - footerLength;
  const meta = new ThriftReader(file, footerStart).struct();

  const out = new ThriftWriter();
  out.raw(file.subarray(0, 4));
  let covered = 4;
  const trailers: Trailer[] = [];

  for (const rowGroup of list(meta, FILE_ROW_GROUPS)) {
    let rgStart = -1;
    let rgCompressed = 0;
    let rgUncompressedOld = 0;
    let rgUncompressedNew = 0;
    for (const chunk of list(rowGroup, RG_COLUMNS)) {
      const cm = sub(chunk, CC_META);
      if (int(cm, CM_CODEC) !== CODEC_ID.UNCOMPRESSED) throw new RecompressError('a column chunk is already compressed');
      const dataOffset = int(cm, CM_DATA_PAGE_OFFSET)!;
      const dictOffset = int(cm, CM_DICTIONARY_PAGE_OFFSET);
      const indexOffset = int(cm, CM_INDEX_PAGE_OFFSET);
      const start = Math.min(dataOffset, dictOffset ?? dataOffset, indexOffset ?? dataOffset);
      const length = int(cm, CM_TOTAL_COMPRESSED)!;
      if (start !== covered) throw new RecompressError(`unexpected bytes at ${covered} before a column chunk at ${start}`);
      const pages = new Map<number, [number, number]>();
      const newStart = out.length;
      let uncompressed = 0;
      let pos = start;
      while (pos < start + length) {
        const reader = new ThriftReader(file, pos);
        const header = reader.struct();
        const bodySize = int(header, PH_COMPRESSED_SIZE)!;
        if (bodySize !== int(header, PH_UNCOMPRESSED_SIZE)) throw new RecompressError('an uncompressed page whose sizes differ');
        const body = file.subarray(reader.pos, reader.pos + bodySize);
        let stored: Uint8Array;
        if (int(header, PH_TYPE) === PAGE_DATA_V2) {
          // V2 keeps its repetition and definition levels uncompressed, ahead of the values.
          const v2 = sub(header, PH_DATA_V2);
          const levels = (int(v2, V2_DEF_LENGTH) ?? 0) + (int(v2, V2_REP_LENGTH) ?? 0);
          const values = compress(body.subarray(levels));
          stored = new Uint8Array(levels + values.length);
          stored.set(body.subarray(0, levels));
          stored.set(values, levels);
          removeField(v2, V2_IS_COMPRESSED); // default true
        } else {
          stored = compress(body);
        }
        // A CRC covers the stored bytes; parquet-rs writes none, and a stale one would fail readers.
        removeField(header, PH_CRC);
        setInt(header, PH_COMPRESSED_SIZE, T.I32, stored.length);
        const at = out.length;
        out.struct(header);
        const headerLength = out.length - at;
        out.raw(stored);
        pages.set(pos, [at, out.length - at]);
        uncompressed += headerLength + bodySize;
        pos = reader.pos + bodySize;
      }
      if (pos !== start + length) throw new RecompressError('pages overrun their column chunk');
      covered = pos;
      const mapPage = (old: number | undefined): number | undefined => (old === undefined ? undefined : pages.get(old)?.[0]);
      setInt(cm, CM_CODEC, T.I32, codec);
      rgUncompressedOld += int(cm, CM_TOTAL_UNCOMPRESSED)!;
      setInt(cm, CM_TOTAL_UNCOMPRESSED, T.I64, uncompressed);
      rgUncompressedNew += uncompressed;
      setInt(cm, CM_TOTAL_COMPRESSED, T.I64, out.length - newStart);
      setInt(cm, CM_DATA_PAGE_OFFSET, T.I64, mapPage(dataOffset)!);
      if (dictOffset !== undefined) setInt(cm, CM_DICTIONARY_PAGE_OFFSET, T.I64, mapPage(dictOffset)!);
      if (indexOffset !== undefined) setInt(cm, CM_INDEX_PAGE_OFFSET, T.I64, mapPage(indexOffset)!);
      // ColumnChunk.file_offset (deprecated): parquet-rs writes the chunk's start or its end.
      const fileOffset = int(chunk, CC_FILE_OFFSET);
      if (fileOffset === start) setInt(chunk, CC_FILE_OFFSET, T.I64, newStart);
      else if (fileOffset === start + length) setInt(chunk, CC_FILE_OFFSET, T.I64, out.length);
      else if (fileOffset !== undefined && fileOffset !== 0) throw new RecompressError(`unexpected column chunk file_offset ${fileOffset}`);
      if (rgStart < 0) rgStart = newStart;
      rgCompressed += out.length - newStart;
      const oiOffset = int(chunk, CC_OFFSET_INDEX_OFFSET);
      if (oiOffset !== undefined) trailers.push({ offset: oiOffset, length: int(chunk, CC_OFFSET_INDEX_LENGTH)!, chunk, kind: 'offset-index', pages });
      const ciOffset = int(chunk, CC_COLUMN_INDEX_OFFSET);
      if (ciOffset !== undefined) trailers.push({ offset: ciOffset, length: int(chunk, CC_COLUMN_INDEX_LENGTH)!, chunk, kind: 'column-index', pages });
      const bloomOffset = int(cm, CM_BLOOM_OFFSET);
      if (bloomOffset !== undefined) {
        const bloomLength = int(cm, CM_BLOOM_LENGTH);
        if (bloomLength === undefined) throw new RecompressError('a bloom filter without a length');
        trailers.push({ offset: bloomOffset, length: bloomLength, chunk, kind: 'bloom', pages });
      }
    }
    if (rgStart >= 0) {
      if (field(rowGroup, RG_FILE_OFFSET)) setInt(rowGroup, RG_FILE_OFFSET, T.I64, rgStart);
      if (field(rowGroup, RG_TOTAL_COMPRESSED)) setInt(rowGroup, RG_TOTAL_COMPRESSED, T.I64, rgCompressed);
      if (int(rowGroup, RG_TOTAL_BYTE_SIZE) === rgUncompressedOld) setInt(rowGroup, RG_TOTAL_BYTE_SIZE, T.I64, rgUncompressedNew);
    }
  }

  trailers.sort((a, b) => a.offset - b.offset);
  for (const t of trailers) {
    if (t.offset !== covered) throw new RecompressError(`unexpected bytes at ${covered} before an index at ${t.offset}`);
    const at = out.length;
    const blob = file.subarray(t.offset, t.offset + t.length);
    if (t.kind === 'offset-index') {
      const index = new ThriftReader(blob).struct();
      for (const location of list(index, OI_PAGE_LOCATIONS)) {
        const moved = t.pages.get(int(location, PL_OFFSET)!);
        if (!moved) throw new RecompressError('an offset index names a page that is not in its column chunk');
        setInt(location, PL_OFFSET, T.I64, moved[0]);
        setInt(location, PL_COMPRESSED_SIZE, T.I32, moved[1]);
      }
      out.struct(index);
      setInt(t.chunk, CC_OFFSET_INDEX_OFFSET, T.I64, at);
      setInt(t.chunk, CC_OFFSET_INDEX_LENGTH, T.I32, out.length - at);
    } else {
      out.raw(blob);
      if (t.kind === 'column-index') setInt(t.chunk, CC_COLUMN_INDEX_OFFSET, T.I64, at);
      else setInt(sub(t.chunk, CC_META), CM_BLOOM_OFFSET, T.I64, at);
    }
    covered = t.offset + t.length;
  }
  if (covered !== footerStart) throw new RecompressError(`unexpected bytes between ${covered} and the footer at ${footerStart}`);

  const footerAt = out.length;
  out.struct(meta);
  const tail = new Uint8Array(8);
  const tailView = new DataView(tail.buffer);
  tailView.setUint32(0, out.length - footerAt, true);
  tailView.setUint32(4, MAGIC, true);
  out.raw(tail);
  return out.bytes();
}
