/**
 * Cursors: a position in a dataset's write log, as an opaque URL-safe string.
 *
 * A cursor holds a watermark (ms, the reader's clock minus the settle window, never moving
 * back) and short hashes of the log entries already delivered whose time is at or after it.
 * Every entry older than the watermark has been delivered; a read lists entries from the
 * watermark on and skips the hashed ones. So an entry that shows up late — named by a writer
 * whose clock is behind, or slow to land — is still delivered once, as long as its time is not
 * older than the watermark when it becomes visible: the settle window must exceed the clock
 * difference between writers and readers plus the time an append takes.
 */
import { createHash } from 'node:crypto';
import { S3ParquetError } from '../errors.js';

export const CURSOR_VERSION = 1;
/** Cursors longer than this are refused (they travel in URLs and headers). */
export const MAX_CURSOR_CHARS = 12_000;
/** 9999-12-31T23:59:59.999Z: the last instant a key time (and toISOString) can name. */
const MAX_WATERMARK_MS = 253_402_300_799_999;

export interface Cursor {
  readonly dataset: string;
  /** Entries with a key time below this (ms) have been delivered. */
  readonly watermarkMs: number;
  /** Hashes (see `entryHash`) of delivered entries at or after the watermark. */
  readonly consumed: readonly string[];
}

/** 9 bytes of SHA-256, base64url: 12 characters, collisions negligible within a settle window. */
export function entryHash(logKey: string): string {
  return createHash('sha256').update(logKey).digest().subarray(0, 9).toString('base64url');
}

export function encodeCursor(c: Cursor): string {
  const json = JSON.stringify({ v: CURSOR_VERSION, d: c.dataset, w: c.watermarkMs, c: c.consumed });
  return Buffer.from(json, 'utf8').toString('base64url');
}

/** Parses a cursor; throws INVALID_ARGUMENT (a 400 on the query port) saying what is wrong. */
export function decodeCursor(text: string, dataset?: string): Cursor {
  const bad = (why: string): never => {
    throw new S3ParquetError('INVALID_ARGUMENT', `invalid cursor: ${why}`);
  };
  if (text.length > MAX_CURSOR_CHARS) bad(`longer than ${MAX_CURSOR_CHARS} characters`);
  if (!/^[A-Za-z0-9_-]+$/.test(text)) bad('not a cursor returned by this API (expected URL-safe base64)');
  let j: Record<string, unknown>;
  try {
    j = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Record<string, unknown>;
  } catch {
    return bad('not a cursor returned by this API (does not decode)');
  }
  if (typeof j !== 'object' || j === null) bad('not a cursor returned by this API');
  if (j.v !== CURSOR_VERSION) bad(`unknown cursor version ${JSON.stringify(j.v)}`);
  if (typeof j.d !== 'string') bad('no dataset');
  if (dataset !== undefined && j.d !== dataset) bad(`it belongs to dataset ${JSON.stringify(j.d)}, not ${JSON.stringify(dataset)}`);
  if (!Number.isSafeInteger(j.w)) bad('the watermark is not a whole number');
  // A forged watermark must not reach date arithmetic (issue 21: it was a 500): cursors are
  // made from this machine's clock, so anything outside 1970…9999 is not one of ours.
  if ((j.w as number) < 0 || (j.w as number) > MAX_WATERMARK_MS) bad(`the watermark ${j.w as number} is outside 0…${MAX_WATERMARK_MS} (1970 to 9999)`);
  if (!Array.isArray(j.c) || j.c.some((h) => typeof h !== 'string' || !/^[A-Za-z0-9_-]{12}$/.test(h))) bad('the consumed set is malformed');
  return { dataset: j.d as string, watermarkMs: j.w as number, consumed: j.c as string[] };
}

/** The cursor for "from the beginning of the log". */
export function beginningCursor(dataset: string): Cursor {
  return { dataset, watermarkMs: 0, consumed: [] };
}

export interface Advance {
  /** Entries listed at or after the old watermark, in key order, with their key times. */
  readonly listed: readonly { readonly logKey: string; readonly timeMs: number }[];
  /** Keys of listed entries delivered by this read (at most `maxEntries` of the new ones). */
  readonly delivered: ReadonlySet<string>;
  /** The reader's clock now (ms) and the settle window (ms). */
  readonly nowMs: number;
  readonly settleMs: number;
  /** Time of the first new entry left for the next read (a read was capped), if any. */
  readonly firstLeftMs?: number;
}

/**
 * The next cursor after a read: the watermark moves to now minus the settle window (never back,
 * and never past an entry left for later); the consumed set keeps only delivered entries at or
 * after the new watermark — older ones can no longer be listed by the next read.
 */
export function advanceCursor(prev: Cursor, a: Advance): Cursor {
  let watermark = Math.max(prev.watermarkMs, a.nowMs - a.settleMs);
  if (a.firstLeftMs !== undefined) watermark = Math.max(prev.watermarkMs, Math.min(watermark, a.firstLeftMs));
  const old = new Set(prev.consumed);
  const consumed: string[] = [];
  for (const { logKey, timeMs } of a.listed) {
    if (timeMs < watermark) continue;
    const h = entryHash(logKey);
    if (a.delivered.has(logKey) || old.has(h)) consumed.push(h);
  }
  return { dataset: prev.dataset, watermarkMs: watermark, consumed };
}
