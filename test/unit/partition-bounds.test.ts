/** Issue 21 item 1: partition values are bounded for every store, by a rule engines can compute. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { boundPartitionValue, escapePartitionValue, isShortenedPartitionValue } from '../../src/partitioning/paths.js';
import { ValuePartitioning } from '../../src/partitioning/strategies.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { partitionKeys } from '../../src/query/partitions.js';

describe('partition value bounds', () => {
  it('keeps values up to 64 UTF-8 bytes as they are', () => {
    const v = 'a'.repeat(64);
    expect(boundPartitionValue(v)).toBe(v);
    expect(boundPartitionValue('é'.repeat(32))).toBe('é'.repeat(32)); // 64 bytes
  });

  it('shortens a longer value to 32 characters, "~" and 16 hex digits of its MD5', () => {
    const v = 'p'.repeat(300);
    const md5 = createHash('md5').update(v, 'utf8').digest('hex');
    expect(boundPartitionValue(v)).toBe(`${'p'.repeat(32)}~${md5.slice(0, 16)}`);
    expect(isShortenedPartitionValue(boundPartitionValue(v))).toBe(true);
    expect(isShortenedPartitionValue('web')).toBe(false);
  });

  it('keeps every escaped segment within 255 bytes, whatever the value', () => {
    const hostile = ['%'.repeat(10_000), '😀'.repeat(5_000), '/'.repeat(64), '\u0001'.repeat(64), 'é%'.repeat(21) + 'x'];
    for (const v of hostile) {
      const seg = `service_name=${escapePartitionValue(v)}`;
      expect(Buffer.byteLength(seg)).toBeLessThanOrEqual(255);
      expect(seg).not.toContain('/');
    }
  });

  it('the daemon partitioner and the library strategy use the same bound', () => {
    const v = 'q'.repeat(200);
    const path = new Partitioner({ granularity: 'hour', format: 'date=%Y-%m-%d', byService: true }).pathFor(0n, v);
    expect(path).toBe(`service_name=${boundPartitionValue(v)}/date=1970-01-01`);
    expect(new ValuePartitioning('tenant').pathFor({ tenant: v })).toBe(`tenant=${boundPartitionValue(v)}`);
  });

  it('a shortened value never prunes a query (it names only a prefix)', () => {
    const keys = partitionKeys(`service_name=${escapePartitionValue('z'.repeat(100))}/date=2024-01-01`);
    expect(keys.has('service_name')).toBe(false);
    expect(keys.get('date')).toBe('2024-01-01');
    expect(partitionKeys('service_name=web').get('service_name')).toBe('web');
  });

  it('a partition level name is at most 64 characters', () => {
    expect(() => new ValuePartitioning('f'.repeat(65))).toThrow(/up to 64/);
  });
});
