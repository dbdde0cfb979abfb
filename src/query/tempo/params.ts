/**
 * Tempo's query parameters: Unix-second time ranges, Go durations, the legacy logfmt `tags`.
 * Every bad value is a 400 naming the parameter.
 */
import { S3ParquetError } from '../../errors.js';
import { parseDurationNs } from '../traceql/index.js';

const NS_PER_S = 1_000_000_000n;

function seconds(q: URLSearchParams, name: string): bigint | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d{1,12}$/.test(raw)) throw new S3ParquetError('INVALID_ARGUMENT', `invalid "${name}" ${JSON.stringify(raw)}: expected Unix seconds`);
  return BigInt(raw) * NS_PER_S;
}

/** `start`/`end` in Unix seconds → [startNs, endNs); without them, the `defaultNs` before now. */
export function timeRange(q: URLSearchParams, nowNs: bigint, defaultNs: bigint): { startNs: bigint; endNs: bigint; given: boolean } {
  const start = seconds(q, 'start');
  const end = seconds(q, 'end');
  // Tempo's `end` is inclusive to the second: cover that whole second.
  const endNs = end !== undefined ? end + NS_PER_S : nowNs;
  const startNs = start ?? endNs - defaultNs;
  if (startNs >= endNs) throw new S3ParquetError('INVALID_ARGUMENT', `invalid "start": ${q.get('start')} is not before "end" ${q.get('end') ?? '(now)'}`);
  return { startNs, endNs, given: start !== undefined || end !== undefined };
}

/** The optional `start`/`end` of a trace lookup, as a range. */
export function optionalRange(q: URLSearchParams): { start?: bigint; end?: bigint } {
  const start = seconds(q, 'start');
  const end = seconds(q, 'end');
  return { ...(start !== undefined ? { start } : {}), ...(end !== undefined ? { end: end + NS_PER_S } : {}) };
}

/** A Go duration parameter (`100ms`, `1h30m`) → ns. */
export function durationParam(q: URLSearchParams, name: string): bigint | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  const ns = parseDurationNs(raw.trim());
  if (ns === null) throw new S3ParquetError('INVALID_ARGUMENT', `invalid "${name}" ${JSON.stringify(raw)}: expected a duration such as 100ms, 2s or 1h30m`);
  return ns;
}

/** Legacy `tags=key=value key2="a b"` (logfmt) → pairs. */
export function logfmtTags(raw: string): [string, string][] {
  const out: [string, string][] = [];
  const re = /\s*([^\s=]+)=(?:"((?:[^"\\]|\\.)*)"|(\S*))/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(raw)) !== null) {
    out.push([m[1]!, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!]);
    last = re.lastIndex;
  }
  if (raw.slice(last).trim() !== '') throw new S3ParquetError('INVALID_ARGUMENT', `invalid "tags" ${JSON.stringify(raw)}: expected logfmt key=value pairs`);
  return out;
}
