/**
 * The write-ahead log's on-disk entries. Each entry is `u32 length | u32 crc32 | body`, the
 * CRC over the body, so a torn or corrupt tail is detected rather than misread.
 *
 * Bodies:
 *   DATA   (1): u64 seq | u64 received ns | u8 signal | u8 format | request bytes (decompressed)
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

export interface DataEntry {
  readonly type: 'data';
  readonly seq: number;
  readonly receivedNs: bigint;
  readonly signal: Signal;
  readonly format: WireFormat;
  readonly body: Uint8Array;
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

export function encodeEntry(e: WalEntry): Buffer {
  if (e.type === 'data') {
    const head = Buffer.allocUnsafe(19);
    head.writeUInt8(1, 0);
    head.writeBigUInt64LE(BigInt(e.seq), 1);
    head.writeBigInt64LE(e.receivedNs, 9);
    head.writeUInt8(SIGNALS.indexOf(e.signal), 17);
    head.writeUInt8(FORMATS.indexOf(e.format), 18);
    return frame(Buffer.concat([head, e.body]));
  }
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
      case 1: {
        const signal = SIGNALS[body.readUInt8(17)];
        const format = FORMATS[body.readUInt8(18)];
        if (!signal || !format) return { problem: `unknown signal or format at offset ${offset}` };
        return { entry: { type: 'data', seq: Number(body.readBigUInt64LE(1)), receivedNs: body.readBigInt64LE(9), signal, format, body: body.subarray(19) }, next };
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
