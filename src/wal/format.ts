/**
 * The write-ahead log's on-disk entries. Each entry is `u32 length | u32 crc32 | body`, the
 * CRC over the body, so a torn or corrupt tail is detected rather than misread.
 *
 * Bodies:
 *   DATA   (1): u64 seq | u64 received ns | u8 signal | u8 format | request bytes (decompressed)
 *   DATA+  (4): as DATA, with `u32 n | n bytes of JSON {placing, groups}` before the request
 *               bytes: the partitions the request's records went to (issue 20), so a restart
 *               can leave a long backlog in the log without building its rows. Written since
 *               the groups were added; DATA entries of older logs are still read (and replayed
 *               by converting them, as before).
 *   INTENT (2): JSON {flush, dataset, partition, seqs, keys} — written before a flush's objects
 *   COMMIT (3): JSON {flushes} — written once every object of those flushes is in the store
 */
import { crc32 } from 'node:zlib';

export const ENTRY_HEADER = 8;
/** A length beyond this is corruption, not a real entry (requests are capped far below). */
export const MAX_ENTRY_BYTES = 1024 * 1024 * 1024;

export type Signal = 'traces' | 'logs' | 'metrics';
export type WireFormat = 'protobuf' | 'json';
const SIGNALS: readonly Signal[] = ['traces', 'logs', 'metrics'];
const FORMATS: readonly WireFormat[] = ['protobuf', 'json'];

/** One partition's records of a request, as the request's conversion found them when it was accepted. */
export interface GroupMeta {
  readonly partition: string;
  readonly rows: number;
  /** Bytes the records held in memory as Arrow (the buffers' accounting). */
  readonly bytes: number;
  readonly minTime: bigint;
  readonly maxTime: bigint;
}

/**
 * Where a request's records went: `groups` hold only for the partitioning that computed them
 * (`placing`, a fingerprint of it); a restart under another partitioning converts the request.
 */
export interface EntryPlacement {
  readonly placing: string;
  readonly groups: readonly GroupMeta[];
}

export interface DataEntry {
  readonly type: 'data';
  readonly seq: number;
  readonly receivedNs: bigint;
  readonly signal: Signal;
  readonly format: WireFormat;
  readonly body: Uint8Array;
  /** Absent in entries written before placements were logged. */
  readonly placement?: EntryPlacement;
}

interface PlacementJson {
  readonly placing: string;
  readonly groups: readonly (readonly [string, number, number, string, string])[];
}

function placementJson(p: EntryPlacement): Buffer {
  const json: PlacementJson = { placing: p.placing, groups: p.groups.map((g) => [g.partition, g.rows, g.bytes, String(g.minTime), String(g.maxTime)] as const) };
  return Buffer.from(JSON.stringify(json));
}

function parsePlacement(bytes: Buffer): EntryPlacement {
  const json = JSON.parse(bytes.toString('utf8')) as PlacementJson;
  if (typeof json.placing !== 'string' || !Array.isArray(json.groups)) throw new Error('placement is not {placing, groups}');
  return {
    placing: json.placing,
    groups: json.groups.map(([partition, rows, bytes, min, max]) => ({ partition, rows, bytes, minTime: BigInt(min), maxTime: BigInt(max) })),
  };
}

export interface IntentEntry {
  readonly type: 'intent';
  readonly flush: number;
  readonly dataset: string;
  readonly partition: string;
  readonly seqs: readonly number[];
  readonly keys: readonly string[];
}

export interface CommitEntry {
  readonly type: 'commit';
  readonly flushes: readonly number[];
}

export type WalEntry = DataEntry | IntentEntry | CommitEntry;

function frame(body: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(ENTRY_HEADER + body.length);
  out.writeUInt32LE(body.length, 0);
  out.writeUInt32LE(crc32(body), 4);
  out.set(body, ENTRY_HEADER);
  return out;
}

/**
 * An entry as the pieces to write one after the other: for a data entry the frame header, the
 * entry's own header and placement in one small buffer, then the request bytes themselves, so
 * the request (hundreds of KiB) is never copied on its way to the disk (it was copied three
 * times: into the body, into the frame, into the group commit's write; issue 19's garbage).
 * The CRC runs over both pieces in turn; the bytes on disk are those of `encodeEntry`.
 */
export function encodeEntryParts(e: WalEntry): readonly Buffer[] {
  if (e.type !== 'data') return [encodeEntry(e)];
  const placement = e.placement ? placementJson(e.placement) : undefined;
  const headLength = placement ? 23 + placement.length : 19;
  const prefix = Buffer.allocUnsafe(ENTRY_HEADER + headLength);
  const head = prefix.subarray(ENTRY_HEADER);
  head.writeUInt8(placement ? 4 : 1, 0);
  head.writeBigUInt64LE(BigInt(e.seq), 1);
  head.writeBigInt64LE(e.receivedNs, 9);
  head.writeUInt8(SIGNALS.indexOf(e.signal), 17);
  head.writeUInt8(FORMATS.indexOf(e.format), 18);
  if (placement) {
    head.writeUInt32LE(placement.length, 19);
    head.set(placement, 23);
  }
  prefix.writeUInt32LE(headLength + e.body.length, 0);
  prefix.writeUInt32LE(crc32(e.body, crc32(head)), 4);
  const body = Buffer.isBuffer(e.body) ? e.body : Buffer.from(e.body.buffer, e.body.byteOffset, e.body.byteLength);
  return [prefix, body];
}

export function encodeEntry(e: WalEntry): Buffer {
  if (e.type === 'data') return Buffer.concat(encodeEntryParts(e));
  const { type, ...rest } = e;
  const json = Buffer.from(JSON.stringify(rest));
  return frame(Buffer.concat([Buffer.from([type === 'intent' ? 2 : 3]), json]));
}

export type DecodeResult = { entry: WalEntry; next: number } | { problem: string } | null;

/** Decodes the entry at `offset`; null at a clean end, `problem` for a torn or corrupt entry. */
export function decodeEntry(buf: Buffer, offset: number): DecodeResult {
  if (offset === buf.length) return null;
  if (offset + ENTRY_HEADER > buf.length) return { problem: `truncated entry header at offset ${offset}` };
  const length = buf.readUInt32LE(offset);
  const crc = buf.readUInt32LE(offset + 4);
  if (length > MAX_ENTRY_BYTES) return { problem: `implausible entry length ${length} at offset ${offset}` };
  const start = offset + ENTRY_HEADER;
  if (start + length > buf.length) return { problem: `truncated entry at offset ${offset} (${buf.length - start} of ${length} bytes)` };
  const body = buf.subarray(start, start + length);
  if (crc32(body) !== crc) return { problem: `checksum mismatch at offset ${offset}` };
  const next = start + length;
  try {
    switch (body[0]) {
      case 1:
      case 4: {
        const signal = SIGNALS[body.readUInt8(17)];
        const format = FORMATS[body.readUInt8(18)];
        if (!signal || !format) return { problem: `unknown signal or format at offset ${offset}` };
        const head = { type: 'data', seq: Number(body.readBigUInt64LE(1)), receivedNs: body.readBigInt64LE(9), signal, format } as const;
        if (body[0] === 1) return { entry: { ...head, body: body.subarray(19) }, next };
        const end = 23 + body.readUInt32LE(19);
        if (end > body.length) return { problem: `placement runs past its entry at offset ${offset}` };
        return { entry: { ...head, placement: parsePlacement(body.subarray(23, end)), body: body.subarray(end) }, next };
      }
      case 2:
        return { entry: { type: 'intent', ...(JSON.parse(body.subarray(1).toString('utf8')) as Omit<IntentEntry, 'type'>) }, next };
      case 3:
        return { entry: { type: 'commit', ...(JSON.parse(body.subarray(1).toString('utf8')) as Omit<CommitEntry, 'type'>) }, next };
      default:
        return { problem: `unknown entry type ${body[0]} at offset ${offset}` };
    }
  } catch (err) {
    return { problem: `unreadable entry at offset ${offset}: ${(err as Error).message}` };
  }
}
