/**
 * Query-string parsing shared by the summary endpoints: every parameter checked, unknown ones
 * refused, each error naming the parameter and the bad value (400).
 */
import { S3ParquetError } from '../../errors.js';
import { parseRfc3339Ns } from '../time.js';

/** A time range for a summary when none is given: the last hour (what the UI opens with). */
const DEFAULT_RANGE_NS = 3_600_000_000_000n;

export function checkKnown(params: URLSearchParams, known: readonly string[]): void {
  for (const k of params.keys()) if (!known.includes(k)) throw new S3ParquetError('INVALID_ARGUMENT', `unknown parameter "${k}"; expected ${known.join(', ')}`);
}

function timeParam(params: URLSearchParams, key: string): bigint | undefined {
  const v = params.get(key);
  if (v === null || v === '') return undefined;
  const ns = parseRfc3339Ns(v);
  if (ns === null) throw new S3ParquetError('INVALID_ARGUMENT', `"${key}" must be an RFC 3339 time such as 2024-01-01T00:00:00Z, got ${JSON.stringify(v)}`);
  return ns;
}

/** `start`/`end` (RFC 3339); a missing end is now, a missing start an hour before the end. */
export function rangeParam(params: URLSearchParams, nowMs: number): { start: bigint; end: bigint } {
  const end = timeParam(params, 'end') ?? BigInt(nowMs) * 1_000_000n;
  const start = timeParam(params, 'start') ?? end - DEFAULT_RANGE_NS;
  if (start >= end) throw new S3ParquetError('INVALID_ARGUMENT', '"start" must be before "end"');
  return { start, end };
}

export function intParam(params: URLSearchParams, key: string, dflt: number, min: number, max: number): number {
  const v = params.get(key);
  if (v === null || v === '') return dflt;
  if (!/^\d{1,15}$/.test(v) || Number(v) < min || Number(v) > max) throw new S3ParquetError('INVALID_ARGUMENT', `"${key}" must be a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return Number(v);
}

/** A string literal of the filter language. */
export function quote(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** ns since the epoch → ms (fractional) for charts. */
export function nsToMs(ns: bigint): number {
  return Number(ns / 1000n) / 1000;
}

/** A timestamp as the engine returns it (RFC 3339 text) → ns, or null. */
export function timeNs(v: unknown): bigint | null {
  return typeof v === 'string' ? parseRfc3339Ns(v) : null;
}
