/**
 * What `log rebuild` records for a file no entry names (or one whose entry has no trace index):
 * its rows, event-time range and trace index, read from the footer our writer puts in every file
 * (a footer without them leaves the range unbounded and the file unindexed, so queries never
 * prune the file wrongly).
 */
import { parquetMetadataAsync } from 'hyparquet';
import { DEFAULT_BLOOM_COLUMN, FileIndex, FOOTER_KEYS, parseBloom } from '../parquet/contract.js';
import { PARSERS, storeBuffer } from '../parquet/source.js';
import type { ObjectStore } from '../store/object-store.js';
import { unknownFile } from './write-log.js';
import type { LoggedFile } from './entry.js';

export function footerDescriber(store: ObjectStore): (key: string, size: number) => Promise<LoggedFile> {
  return async (key, size) => {
    const unknown = unknownFile(key, size);
    let md;
    try {
      md = await parquetMetadataAsync(storeBuffer(store, key, size, { bytesRead: 0, requests: 0 }), { parsers: PARSERS, initialFetchSize: 16 * 1024 });
    } catch {
      return unknown; // not readable as Parquet: still listed, never pruned
    }
    const kv = (k: string): string | undefined => md.key_value_metadata?.find((e) => e.key === k)?.value ?? undefined;
    const min = kv(FOOTER_KEYS.minEventTime);
    const max = kv(FOOTER_KEYS.maxEventTime);
    const rows = Number(md.num_rows);
    const bloom = kv(FOOTER_KEYS.traceIdBloom);
    const index = bloom !== undefined && parseBloom(bloom) !== null ? new FileIndex(kv(FOOTER_KEYS.bloomColumn) ?? DEFAULT_BLOOM_COLUMN, bloom) : undefined;
    return {
      ...(index ? { index } : {}),
      key,
      rows: Number.isSafeInteger(rows) ? rows : 0,
      bytes: size,
      minTimeNs: min !== undefined && /^-?\d+$/.test(min) ? BigInt(min) : unknown.minTimeNs,
      maxTimeNs: max !== undefined && /^-?\d+$/.test(max) ? BigInt(max) : unknown.maxTimeNs,
    };
  };
}
