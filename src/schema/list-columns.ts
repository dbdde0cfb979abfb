/**
 * `List<primitive>` column builders (histogram buckets and bounds), in the same typed-array
 * style as columns.ts: one offsets array, a lazily materialised validity bitmap and a flat
 * child builder, so a row of N values costs N typed-array writes and no per-row objects.
 */
import { List, makeData, type Data } from 'apache-arrow';
import { Float64Builder, Int64Builder, listTypeOf, type ColumnBuilder, tight } from './columns.js';

const INITIAL = 64;

/** A list whose items are appended to `items` directly; `endRow()` closes the row. */
export class PrimitiveListBuilder<B extends ColumnBuilder> implements ColumnBuilder {
  readonly type: List;
  length = 0;
  private offsets = new Int32Array(INITIAL + 1);
  // Most list columns never hold a null row, so the bitmap only exists once one is seen.
  private bits: Uint8Array | null = null;
  private nullCount = 0;

  constructor(readonly items: B) {
    this.type = listTypeOf(items.type); // shared: one batch schema per dataset shape (batch-builder.ts)
  }

  endRow(): void {
    this.push(true);
  }

  appendNull(): void {
    this.push(false);
  }

  byteSize(): number {
    return this.items.byteSize() + this.length * 4;
  }

  finish(): Data {
    const length = this.length;
    return makeData({
      type: this.type,
      length,
      nullCount: this.nullCount,
      nullBitmap: this.bits === null ? undefined : tight(this.bits, (length + 7) >> 3),
      valueOffsets: tight(this.offsets, length + 1),
      child: this.items.finish(),
    });
  }

  private push(valid: boolean): void {
    const i = this.length++;
    if (this.offsets.length < this.length + 1) {
      const next = new Int32Array(this.offsets.length * 2);
      next.set(this.offsets);
      this.offsets = next;
    }
    this.offsets[this.length] = this.items.length;
    if (valid) {
      if (this.bits !== null) this.bitmap()[i >> 3]! |= 1 << (i & 7);
      return;
    }
    if (this.bits === null) {
      // First null: every earlier row was valid.
      this.bits = new Uint8Array((this.offsets.length >> 3) + 1);
      for (let r = 0; r < i; r++) this.bits[r >> 3]! |= 1 << (r & 7);
    } else {
      this.bitmap();
    }
    this.nullCount++;
  }

  private bitmap(): Uint8Array {
    const need = (this.length >> 3) + 1;
    if (this.bits!.length < need) {
      const next = new Uint8Array(Math.max(need, this.bits!.length * 2));
      next.set(this.bits!);
      this.bits = next;
    }
    return this.bits!;
  }
}

/** `List<Int64>`: append each value to `items`, then `endRow()`. */
export class Int64ListBuilder extends PrimitiveListBuilder<Int64Builder> {
  constructor() {
    super(new Int64Builder());
  }

  /** One row from an array, each value converted (pass a shared function: no closure per row). */
  append<T>(values: readonly T[] | null | undefined, toBigInt: (v: T) => bigint): void {
    if (values === null || values === undefined) return this.appendNull();
    for (let i = 0; i < values.length; i++) this.items.append(toBigInt(values[i]!));
    this.endRow();
  }
}

/** `List<Float64>`. */
export class Float64ListBuilder extends PrimitiveListBuilder<Float64Builder> {
  constructor() {
    super(new Float64Builder());
  }

  /** One row from an array; null/undefined makes a null row. */
  append(values: readonly number[] | null | undefined): void {
    if (values === null || values === undefined) return this.appendNull();
    for (let i = 0; i < values.length; i++) this.items.append(values[i]!);
    this.endRow();
  }
}
