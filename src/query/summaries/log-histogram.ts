/**
 * Log record counts over time by severity, for the UI's histogram: one streaming pass over two
 * columns, memory fixed by the bucket count whatever the number of records.
 */
import type { QueryStats } from '../engine.js';
import type { RecordSource } from '../record-source.js';
import { emptyStats } from '../engine.js';
import { nsToMs, timeNs } from './params.js';

/** OTel severity ranges (1–4 TRACE … 21–24 FATAL); 0 and anything else is UNSPECIFIED. */
export const SEVERITY_CLASSES = ['UNSPECIFIED', 'TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;

export function severityClass(n: unknown): number {
  return typeof n === 'number' && n >= 1 && n <= 24 ? Math.ceil(n / 4) : 0;
}

export interface LogHistogram {
  start_ms: number;
  step_ms: number;
  severities: readonly string[];
  /** counts[severity][bucket] */
  counts: number[][];
  total: number;
  stats: QueryStats;
}

export async function logHistogram(source: RecordSource, o: { start: bigint; end: bigint; buckets: number; filter?: string }): Promise<LogHistogram> {
  const stats = emptyStats();
  const span = o.end - o.start;
  // Whole milliseconds per bucket, so the client's axis and ours agree exactly.
  const stepNs = ((span + BigInt(o.buckets) - 1n) / BigInt(o.buckets) + 999_999n) / 1_000_000n * 1_000_000n;
  const counts = SEVERITY_CLASSES.map(() => new Array<number>(o.buckets).fill(0));
  let total = 0;
  const q = { dataset: 'logs', start: o.start, end: o.end, select: ['time', 'observed_time', 'severity_number'], ...(o.filter ? { filter: o.filter } : {}) };
  for await (const rec of source.query(q, stats)) {
    const t = timeNs(rec.time) ?? timeNs(rec.observed_time);
    if (t === null || t < o.start || t >= o.end) continue;
    const b = Number((t - o.start) / stepNs);
    counts[severityClass(rec.severity_number)]![b]!++;
    total++;
  }
  return { start_ms: nsToMs(o.start), step_ms: Number(stepNs / 1_000_000n), severities: SEVERITY_CLASSES, counts, total, stats };
}
