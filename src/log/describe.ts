/**
 * What `log rebuild` records for a file no entry names (or one whose entry has no trace index):
 * its rows, event-time range and trace index, read from the footer our writer puts in every file
 * (a footer without them leaves the range unbounded and the file unindexed, so queries never
 * prune the file wrongly).
 */
import { parquetMetadataAsync, parquetReadObjects, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { buildFileIndex, DEFAULT_BLOOM_COLUMN, FileIndex, FOOTER_KEYS, INDEX_COLUMNS, parseBloom } from '../parquet/contract.js';
import { PARSERS, storeBuffer } from '../parquet/source.js';
import type { ObjectStore } from '../store/object-store.js';
import { unknownFile } from './write-log.js';
import type { LoggedFile } from './entry.js';

/**
 * The trace index of a file: its footer's bloom filter when it has one of the dataset's index
 * column, else built from the column itself (read whole: `log rebuild` is a one-off, and files
 * written with `bloom_filter_enabled = false` have no footer filter). Undefined when the
 * dataset has no index column or the file lacks it.
 */
async function fileIndex(file: AsyncBuffer, md: FileMetaData, column: string | undefined): Promise<FileIndex | undefined> {
  if (column === undefined) return undefined;
  const kv = (k: string): string | undefined => md.key_value_metadata?.find((e) => e.key === k)?.value ?? undefined;
  const bloom = kv(FOOTER_KEYS.traceIdBloom);
  if (bloom !== undefined && parseBloom(bloom) !== null && (kv(FOOTER_KEYS.bloomColumn) ?? DEFAULT_BLOOM_COLUMN) === column) return new FileIndex(column, bloom);
  if (!md.schema.slice(1).some((e) => e.name === column)) return undefined;
  try {
    const rows = await parquetReadObjects({ file, metadata: md, columns: [column], compressors, utf8: true });
    return buildFileIndex(column, rows.map((r) => (typeof r[column] === 'string' ? (r[column] as string) : null)));
  } catch {
    return undefined; // unreadable: the file stays unindexed (opened by every lookup)
  }
}

export function footerDescriber(store: ObjectStore, indexColumns: Readonly<Record<string, string>> = INDEX_COLUMNS): (key: string, size: number) => Promise<LoggedFile> {
  return async (key, size) => {
    const unknown = unknownFile(key, size);
    const file = storeBuffer(store, key, size, { bytesRead: 0, requests: 0 });
    let md;
    try {
      md = await parquetMetadataAsync(file, { parsers: PARSERS, initialFetchSize: 16 * 1024 });
    } catch {
      return unknown; // not readable as Parquet: still listed, never pruned
    }
    const kv = (k: string): string | undefined => md.key_value_metadata?.find((e) => e.key === k)?.value ?? undefined;
    const min = kv(FOOTER_KEYS.minEventTime);
    const max = kv(FOOTER_KEYS.maxEventTime);
    const rows = Number(md.num_rows);
    const index = await fileIndex(file, md, indexColumns[key.slice(0, key.indexOf('/'))]);
    return {
      key,
      rows: Number.isSafeInteger(rows) ? rows : 0,
      bytes: size,
      minTimeNs: min !== undefined && /^-?\d+$/.test(min) ? BigInt(min) : unknown.minTimeNs,
      maxTimeNs: max !== undefined && /^-?\d+$/.test(max) ? BigInt(max) : unknown.maxTimeNs,
      ...(index ? { index } : {}),
    };
  };
}
