/**
 * Jaeger's query parameters: microsecond times, Go durations, `lookback` (`1h`, `2d`), and
 * `tags` as a JSON map or `key:value` (repeatable, also as `tag=`). Bad values are 400s naming
 * the parameter.
 */
import { S3ParquetError } from '../../errors.js';
import { parseDurationNs } from '../traceql/index.js';

const DAY_NS = 86_400_000_000_000n;

function micros(q: URLSearchParams, name: string): bigint | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  if (!/^\d{1,18}$/.test(raw)) throw new S3ParquetError('INVALID_ARGUMENT', `invalid "${name}" ${JSON.stringify(raw)}: expected microseconds since the Unix epoch`);
  return BigInt(raw) * 1_000n;
}

/** A Go duration, plus Jaeger's `d` for days in `lookback`. */
export function goDuration(q: URLSearchParams, name: string, days = false): bigint | undefined {
  const raw = q.get(name);
  if (raw === null || raw === '') return undefined;
  const d = days ? /^(\d+)d$/.exec(raw.trim()) : null;
  const ns = d ? BigInt(d[1]!) * DAY_NS : parseDurationNs(raw.trim());
  if (ns === null) throw new S3ParquetError('INVALID_ARGUMENT', `invalid "${name}" ${JSON.stringify(raw)}: expected a duration such as 100ms, 1.5s or 2h${days ? ' (or 2d)' : ''}`);
  return ns;
}

/** `start`/`end` (µs) or `lookback` before `end` (default `defaultNs`) → [startNs, endNs). */
export function jaegerRange(q: URLSearchParams, nowNs: bigint, defaultNs: bigint, names = { start: 'start', end: 'end' }): { startNs: bigint; endNs: bigint } {
  const end = micros(q, names.end);
  const start = micros(q, names.start);
  const lookback = q.get('lookback') === 'custom' ? undefined : goDuration(q, 'lookback', true);
  const endNs = end !== undefined ? end + 1_000n : nowNs; // inclusive to the microsecond
  const startNs = start ?? endNs - (lookback ?? defaultNs);
  if (startNs >= endNs) throw new S3ParquetError('INVALID_ARGUMENT', `invalid "${names.start}": it is not before "${names.end}"`);
  return { startNs, endNs };
}

/** Tag filters from `tags` (JSON object or `k:v`) and repeated `tag=k:v`. */
export function jaegerTags(q: URLSearchParams): [string, string][] {
  const out: [string, string][] = [];
  for (const raw of q.getAll('tags')) {
    if (raw.trim() === '') continue;
    if (raw.trim().startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (err) {
        throw new S3ParquetError('INVALID_ARGUMENT', `invalid "tags": not a JSON object: ${(err as Error).message}`);
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new S3ParquetError('INVALID_ARGUMENT', 'invalid "tags": expected a JSON object of key → value');
      for (const [k, v] of Object.entries(parsed)) {
        if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new S3ParquetError('INVALID_ARGUMENT', `invalid "tags": the value of ${JSON.stringify(k)} must be a string, number or boolean`);
        out.push([k, String(v)]);
      }
    } else out.push(keyColonValue(raw, 'tags'));
  }
  for (const raw of q.getAll('tag')) out.push(keyColonValue(raw, 'tag'));
  return out;
}

function keyColonValue(raw: string, name: string): [string, string] {
  const i = raw.indexOf(':');
  if (i <= 0) throw new S3ParquetError('INVALID_ARGUMENT', `invalid "${name}" ${JSON.stringify(raw)}: expected key:value or a JSON object`);
  return [raw.slice(0, i), raw.slice(i + 1)];
}
