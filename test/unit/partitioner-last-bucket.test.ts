/**
 * The partitioner keeps the last bucket's path and the times it covers (a range check instead of
 * a division, a key string and a map lookup per record): every answer must be the one a fresh
 * partitioner, with nothing remembered, gives for the same time and service.
 */
import { describe, expect, it } from 'vitest';
import { Partitioner, type Granularity } from '../../src/pipeline/partitioner.js';

const HOUR_NS = 3_600_000_000_000n;
const t0 = BigInt(Date.UTC(2024, 0, 1, 5)) * 1_000_000n;

describe('Partitioner: the last bucket remembered', () => {
  for (const granularity of ['minute', 'hour', 'day'] as Granularity[]) {
    for (const byService of [false, true]) {
      it(`answers as a fresh partitioner would (${granularity}, byService ${byService})`, () => {
        const options = { granularity, format: 'date=%Y-%m-%d/hour=%H/minute=%M', byService };
        const kept = new Partitioner(options);
        // Bucket edges to the nanosecond, back and forth, the epoch, and services that alternate.
        const times = [t0, t0 + 1n, t0 + HOUR_NS - 1n, t0 + HOUR_NS, t0 + HOUR_NS - 1n, t0 + 59_999_999_999n, t0 + 60_000_000_000n, t0, t0 - 1n, 0n, 1n, t0 + 24n * HOUR_NS, t0 + 24n * HOUR_NS - 1n];
        const services = ['a', 'b', null, 'a'];
        let n = 0;
        for (const time of times) {
          for (const service of services) {
            expect(kept.pathFor(time, service), `${time} ${service}`).toBe(new Partitioner(options).pathFor(time, service));
            n++;
          }
        }
        expect(n).toBe(times.length * services.length);
      });
    }
  }

  it('puts the last nanosecond of an hour and the first of the next in different partitions', () => {
    const p = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false });
    expect(p.pathFor(t0 + HOUR_NS - 1n, null)).toBe('date=2024-01-01/hour=05');
    expect(p.pathFor(t0 + HOUR_NS, null)).toBe('date=2024-01-01/hour=06');
    expect(p.pathFor(t0 + HOUR_NS - 1n, null)).toBe('date=2024-01-01/hour=05');
  });
});
