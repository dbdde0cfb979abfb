/**
 * Percentiles of exponential histograms and summaries, for the metrics chart.
 *
 * Exponential histogram (OTLP ExponentialHistogramDataPoint): at scale s, base = 2^(2^-s);
 * positive bucket index i holds values in (base^i, base^(i+1)], negative bucket i the mirror
 * [-base^(i+1), -base^i), and the zero bucket [-zero_threshold, zero_threshold]. Points of
 * different scales merge at the smaller scale: index i at scale s is index i >> (s - s') at s'
 * (the spec's downscaling; each bucket of the coarser scale is exactly 2^(s-s') finer ones).
 * A quantile is interpolated linearly inside the bucket that holds its rank, so its error is at
 * most one bucket's width (a relative error of base - 1: 9 % at scale 3, 1.1 % at scale 6).
 *
 * Summary (SummaryDataPoint): the point carries its own quantiles; one not among them is
 * interpolated between its neighbours. Quantiles of different streams cannot be merged exactly;
 * the chart averages them (a stated simplification, docs/ui.md).
 */

/** Bucket counts by index, at one scale. */
export interface ExpBuckets {
  scale: number;
  zeroCount: number;
  zeroThreshold: number;
  positive: Map<number, number>;
  negative: Map<number, number>;
}

/** A data point's buckets: `offset` is the index of the first count. */
export function expFromPoint(p: {
  scale: number; zeroCount: number; zeroThreshold: number;
  positiveOffset: number; positive: readonly number[]; negativeOffset: number; negative: readonly number[];
}): ExpBuckets {
  const toMap = (offset: number, counts: readonly number[]): Map<number, number> => {
    const m = new Map<number, number>();
    counts.forEach((c, k) => {
      if (c > 0) m.set(offset + k, c);
    });
    return m;
  };
  return { scale: p.scale, zeroCount: p.zeroCount, zeroThreshold: p.zeroThreshold, positive: toMap(p.positiveOffset, p.positive), negative: toMap(p.negativeOffset, p.negative) };
}

function downscaleMap(m: ReadonlyMap<number, number>, shift: number): Map<number, number> {
  if (shift === 0) return new Map(m);
  const div = 2 ** shift;
  const out = new Map<number, number>();
  for (const [i, c] of m) {
    const j = Math.floor(i / div);
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

/** The same counts at a scale no finer than `scale`. */
export function downscale(b: ExpBuckets, scale: number): ExpBuckets {
  if (scale >= b.scale) return { ...b, positive: new Map(b.positive), negative: new Map(b.negative) };
  const shift = b.scale - scale;
  return { ...b, scale, positive: downscaleMap(b.positive, shift), negative: downscaleMap(b.negative, shift) };
}

/** `into` += `add`, both brought to the coarser of their scales; returns the merged buckets. */
export function mergeExp(into: ExpBuckets, add: ExpBuckets): ExpBuckets {
  const scale = Math.min(into.scale, add.scale);
  const a = into.scale === scale ? into : downscale(into, scale);
  const b = downscale(add, scale);
  for (const [i, c] of b.positive) a.positive.set(i, (a.positive.get(i) ?? 0) + c);
  for (const [i, c] of b.negative) a.negative.set(i, (a.negative.get(i) ?? 0) + c);
  a.zeroCount += b.zeroCount;
  a.zeroThreshold = Math.max(a.zeroThreshold, b.zeroThreshold);
  return a;
}

/**
 * What a cumulative point added since the previous one of its stream; null when a count went
 * down (a restart: the caller counts the new point in full).
 */
export function diffExp(cur: ExpBuckets, prev: ExpBuckets): ExpBuckets | null {
  const scale = Math.min(cur.scale, prev.scale);
  const c = downscale(cur, scale);
  const p = downscale(prev, scale);
  const sub = (a: Map<number, number>, b: ReadonlyMap<number, number>): boolean => {
    for (const [i, n] of b) {
      const left = (a.get(i) ?? 0) - n;
      if (left < 0) return false;
      if (left === 0) a.delete(i);
      else a.set(i, left);
    }
    return true;
  };
  if (!sub(c.positive, p.positive) || !sub(c.negative, p.negative) || c.zeroCount < p.zeroCount) return null;
  c.zeroCount -= p.zeroCount;
  return c;
}

/** The q-quantile (0 ≤ q ≤ 1) of exponential buckets; null when they hold nothing. */
export function expQuantile(q: number, b: ExpBuckets): number | null {
  const width = 2 ** -b.scale;
  const bound = (i: number): number => 2 ** (i * width);
  // Lowest values first: negative buckets by falling index, the zero bucket, positive by rising.
  const ranges: [lo: number, hi: number, count: number][] = [];
  for (const i of [...b.negative.keys()].sort((x, y) => y - x)) ranges.push([-bound(i + 1), -bound(i), b.negative.get(i)!]);
  if (b.zeroCount > 0) ranges.push([-b.zeroThreshold, b.zeroThreshold, b.zeroCount]);
  for (const i of [...b.positive.keys()].sort((x, y) => x - y)) ranges.push([bound(i), bound(i + 1), b.positive.get(i)!]);
  const total = ranges.reduce((s, r) => s + r[2], 0);
  if (total <= 0) return null;
  const rank = q * total;
  let seen = 0;
  for (const [lo, hi, c] of ranges) {
    if (c > 0 && seen + c >= rank) return lo + (hi - lo) * Math.max(0, (rank - seen) / c);
    seen += c;
  }
  return ranges[ranges.length - 1]![1];
}

/**
 * The q-quantile of one summary point from its own quantiles: exact when it has it, linear
 * between the two around it, null outside the ones it has.
 */
export function summaryQuantile(q: number, quantiles: readonly { quantile: number; value: number }[]): number | null {
  const sorted = [...quantiles].sort((a, b) => a.quantile - b.quantile);
  for (let k = 0; k < sorted.length; k++) {
    const hi = sorted[k]!;
    if (hi.quantile === q) return hi.value;
    if (hi.quantile > q) {
      const lo = sorted[k - 1];
      if (lo === undefined) return null;
      return lo.value + (hi.value - lo.value) * ((q - lo.quantile) / (hi.quantile - lo.quantile));
    }
  }
  return null;
}
