/**
 * `Int64Builder.appendUint32` writes a count or flag word into the 64-bit column without a
 * bigint: the column must hold what `append(BigInt(value))` holds, through growth and nulls.
 */
import { describe, expect, it } from 'vitest';
import { Int64Builder } from '../../src/schema/columns.js';

describe('Int64Builder.appendUint32', () => {
  it('stores the same values as append(BigInt(v)), across growth and mixed with nulls and bigints', () => {
    const viaWords = new Int64Builder();
    const viaBigint = new Int64Builder();
    const values = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 7, 0x301];
    for (let i = 0; i < 1000; i++) {
      const v = values[i % values.length]!;
      if (i % 97 === 5) {
        viaWords.appendNull();
        viaBigint.appendNull();
      } else if (i % 31 === 3) {
        viaWords.append(-5n); // a bigint write between word writes, on the same memory
        viaBigint.append(-5n);
      } else {
        viaWords.appendUint32(v);
        viaBigint.append(BigInt(v));
      }
    }
    const a = viaWords.finish();
    const b = viaBigint.finish();
    expect(a.length).toBe(1000);
    expect(a.nullCount).toBe(b.nullCount);
    expect(a.nullCount).toBeGreaterThan(0);
    expect(Array.from(a.values as BigInt64Array)).toEqual(Array.from(b.values as BigInt64Array));
    expect((a.values as BigInt64Array)[4]).toBe(0xffffffffn);
    expect(Buffer.from(a.nullBitmap!)).toEqual(Buffer.from(b.nullBitmap!));
  });
});
