/**
 * The percentile maths of the metrics chart for exponential histograms and summaries, against
 * distributions whose quantiles are known exactly.
 */
import { describe, expect, it } from 'vitest';
import { diffExp, downscale, expFromPoint, expQuantile, mergeExp, summaryQuantile, type ExpBuckets } from '../../src/query/summaries/percentiles.js';

/** Buckets `values` the way an OTel SDK does at `scale`: index i holds (base^i, base^(i+1)]. */
function bucketed(values: readonly number[], scale: number, zeroThreshold = 0): ExpBuckets {
  const positive = new Map<number, number>();
  const negative = new Map<number, number>();
  let zeroCount = 0;
  for (const v of values) {
    if (Math.abs(v) <= zeroThreshold) {
      zeroCount++;
      continue;
    }
    const i = Math.ceil(Math.log2(Math.abs(v)) * 2 ** scale) - 1;
    const m = v > 0 ? positive : negative;
    m.set(i, (m.get(i) ?? 0) + 1);
  }
  // Through the data point form (offset + dense counts), as the records hold it.
  const dense = (m: Map<number, number>): { offset: number; counts: number[] } => {
    if (m.size === 0) return { offset: 0, counts: [] };
    const lo = Math.min(...m.keys());
    const hi = Math.max(...m.keys());
    return { offset: lo, counts: Array.from({ length: hi - lo + 1 }, (_, k) => m.get(lo + k) ?? 0) };
  };
  const p = dense(positive);
  const n = dense(negative);
  return expFromPoint({ scale, zeroCount, zeroThreshold, positiveOffset: p.offset, positive: p.counts, negativeOffset: n.offset, negative: n.counts });
}

/** N samples at evenly spaced probabilities of a distribution given by its inverse CDF. */
const samples = (n: number, inverseCdf: (p: number) => number): number[] => Array.from({ length: n }, (_, k) => inverseCdf((k + 0.5) / n));
const exponential = (p: number): number => -Math.log(1 - p); // rate 1: the q-quantile is -ln(1 - q)

describe('expQuantile', () => {
  const values = samples(100_000, exponential);

  for (const scale of [2, 5, 8]) {
    it(`recovers p50/p90/p99 of an exponential distribution within one bucket's width (scale ${scale})`, () => {
      const b = bucketed(values, scale);
      const relErr = 2 ** (2 ** -scale) - 1; // one bucket is (x, x·base]
      for (const q of [0.5, 0.9, 0.99]) {
        const exact = -Math.log(1 - q);
        const got = expQuantile(q, b)!;
        expect(Math.abs(got - exact) / exact).toBeLessThanOrEqual(relErr);
      }
    });
  }

  it('orders negative buckets, the zero bucket and positive ones: a uniform distribution on [-10, 10]', () => {
    const b = bucketed(samples(20_000, (p) => -10 + 20 * p), 6, 0.01);
    expect(b.zeroCount).toBeGreaterThan(0);
    expect(b.negative.size).toBeGreaterThan(0);
    for (const [q, exact] of [[0.01, -9.8], [0.25, -5], [0.5, 0], [0.9, 8], [0.99, 9.8]] as const) {
      expect(Math.abs(expQuantile(q, b)! - exact)).toBeLessThanOrEqual(Math.max(0.02, Math.abs(exact) * (2 ** (2 ** -6) - 1)));
    }
  });

  it('has no answer for empty buckets, and a point mass at zero is 0', () => {
    expect(expQuantile(0.5, bucketed([], 3))).toBeNull();
    expect(expQuantile(0.99, bucketed([0, 0, 0], 3))).toBe(0);
  });

  it('merges points of different scales at the coarser one, counting every value once', () => {
    const fine = bucketed(values.filter((_, k) => k % 2 === 0), 8);
    const coarse = bucketed(values.filter((_, k) => k % 2 === 1), 3);
    const merged = mergeExp(downscale(fine, fine.scale), coarse);
    expect(merged.scale).toBe(3);
    const total = [...merged.positive.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(values.length);
    // The merged buckets are exactly what bucketing everything at scale 3 gives.
    expect(merged.positive).toEqual(bucketed(values, 3).positive);
    expect(downscale(fine, 3).positive.size).toBeLessThan(fine.positive.size);
  });

  it('takes the difference of cumulative points, and says when a count went down (a restart)', () => {
    const first = values.slice(0, 40_000);
    const before = bucketed(first, 5);
    const after = bucketed(values, 5);
    const inc = diffExp(after, before)!;
    expect(inc.positive).toEqual(bucketed(values.slice(40_000), 5).positive);
    expect(diffExp(before, after)).toBeNull();
  });
});

describe('summaryQuantile', () => {
  const quantiles = [
    { quantile: 0.99, value: 400 },
    { quantile: 0.5, value: 100 },
    { quantile: 0.95, value: 300 },
  ];
  it('takes a quantile the point has, interpolates between the two around one it has not, and has none outside', () => {
    expect(summaryQuantile(0.5, quantiles)).toBe(100);
    expect(summaryQuantile(0.99, quantiles)).toBe(400);
    expect(summaryQuantile(0.9, quantiles)).toBeCloseTo(100 + 200 * (0.4 / 0.45), 9);
    expect(summaryQuantile(0.25, quantiles)).toBeNull();
    expect(summaryQuantile(0.999, quantiles)).toBeNull();
  });
});
