import { describe, expect, it } from 'vitest';
import { buildBloom, parseBloom } from '../../src/parquet/bloom.js';

const id = (n: number) => n.toString(16).padStart(32, '0');

describe('trace id bloom filter', () => {
  it('never misses a member and rarely admits a stranger', () => {
    const members = Array.from({ length: 10_000 }, (_, i) => id(i * 3));
    const bloom = parseBloom(buildBloom(members, members.length))!;
    expect(members.every((m) => bloom.mightContain(m))).toBe(true);
    let falsePositives = 0;
    for (let i = 0; i < 10_000; i++) if (bloom.mightContain(id(i * 3 + 1))) falsePositives++;
    expect(falsePositives / 10_000).toBeLessThan(0.03);
  });

  it('reads anything malformed as "no filter" rather than a wrong answer', () => {
    for (const bad of [undefined, '', 'v2:7:64:AAAAAAAAAAA=', 'v1:x:64:AA', 'v1:7:64:AA']) expect(parseBloom(bad)).toBeNull();
  });
});
