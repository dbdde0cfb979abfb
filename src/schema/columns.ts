/**
 * Column builders that fill typed arrays in place and hand them to Arrow `Data` at the end (arrow-data.ts).
 *
 * apache-arrow's own builders are ~10x slower for our shapes (see DESIGN.md), so each builder
 * here owns a growable buffer, a validity bitmap and (for variable-size types) an offsets
 * array. Capacity doubles, so appends are amortised O(1) and no per-value objects are made.
 */
import {
  Bool,
  Data,
  Field,
  Float64,
  Int32,
  Int64,
  List,
  Map_,
  Struct,
  TimestampNanosecond,
  Uint32,
  Utf8,
  type DataType,
} from 'apache-arrow';
import { fixedData, listData, structData, utf8Data } from './arrow-data.js';
import { keepCopy } from './batch-memory.js';
import { borrowArray, borrowBuffer, returnBuffer, settle } from './buffer-pool.js';

const INITIAL = 64;
/** Strings up to this length try the ASCII copy loop before the native UTF-8 encoder. */
const SHORT_STRING = 64;
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/**
 * The first `used` elements of a growable buffer, copied when the buffer has much unused
 * capacity: a batch lives in a partition buffer for up to `max_age_seconds`, and a view would
 * keep the whole doubled allocation alive (memory limits count what is used, so must we).
 */
export function tight<T extends Uint8Array | Int32Array | Uint32Array | Float64Array | BigInt64Array>(buffer: T, used: number): T {
  const view = buffer.subarray(0, used) as T;
  if (buffer.length <= used + (used >> 3) + 64) return view;
  // Into the batch's slab when one is open (batch-memory.ts), else a new array.
  return keepCopy(view);
}

/** Validity bitmap that is only materialised once a null is seen (most columns have none). */
class Validity {
  private bits: Uint8Array | null = null;
  nullCount = 0;

  set(index: number, valid: boolean, capacity: number): void {
    if (valid) {
      if (this.bits !== null) this.grow(capacity)[index >> 3]! |= 1 << (index & 7);
      return;
    }
    if (this.bits === null) {
      // First null: every earlier value was valid.
      this.bits = new Uint8Array(Math.max(8, capacity >> 3) + 1);
      for (let i = 0; i < index; i++) this.bits[i >> 3]! |= 1 << (i & 7);
    } else {
      this.grow(capacity);
    }
    this.nullCount++;
  }

  /**
   * Marks `n` values from `first` valid: nothing to do until a null has made the bitmap (a
   * resource's packed attributes append ~26 valid strings per record; h-jit8).
   */
  setValidRun(first: number, n: number, capacity: number): void {
    if (this.bits === null) return;
    const bits = this.grow(capacity);
    for (let i = first, end = first + n; i < end; i++) bits[i >> 3]! |= 1 << (i & 7);
  }

  private grow(capacity: number): Uint8Array {
    const need = (capacity >> 3) + 1;
    if (this.bits!.length < need) {
      const next = new Uint8Array(Math.max(need, this.bits!.length * 2));
      next.set(this.bits!);
      this.bits = next;
    }
    return this.bits!;
  }

  bitmap(length: number): Uint8Array | undefined {
    return this.bits === null ? undefined : tight(this.bits, (length + 7) >> 3);
  }
}

export interface ColumnBuilder {
  readonly type: DataType;
  readonly length: number;
  appendNull(): void;
  /** Approximate bytes held, for buffer accounting. */
  byteSize(): number;
  finish(): Data;
}

/**
 * Strings encoded once and appended many times as one block (a resource's or scope's
 * attribute keys or values, the same for every record of the group): their UTF-8 bytes back to
 * back, `ends[i]` where string i ends, `valid[i]` false for a null.
 */
/**
 * One instance of each type for every builder and batch: a batch's schema, its Data and the
 * sorted copies then share the same type objects, so apache-arrow's visitors and the flush sort
 * meet the same few objects every flush (and a batch waiting for its flush holds no types of its
 * own).
 */
const UTF8 = new Utf8();
const INT32 = new Int32();
const UINT32 = new Uint32();
const FLOAT64 = new Float64();
const INT64 = new Int64();
const TIMESTAMP_NS = new TimestampNanosecond();
const BOOL = new Bool();

/**
 * Struct and list types, one instance per shape (field names, nullability, child type
 * instances), so builders made per request hand every batch the same type objects.
 * Shapes are the datasets' nested columns: a handful; past `MAX_SHAPES` new shapes are not kept.
 */
const shapes = new Map<string, DataType>();
const MAX_SHAPES = 256;
const typeIds = new WeakMap<DataType, number>();
let nextTypeId = 0;
function typeIdOf(t: DataType): number {
  let id = typeIds.get(t);
  if (id === undefined) typeIds.set(t, (id = nextTypeId++));
  return id;
}
function interned<T extends DataType>(key: string, make: () => T): T {
  const known = shapes.get(key);
  if (known !== undefined) return known as T;
  const t = make();
  if (shapes.size < MAX_SHAPES) shapes.set(key, t);
  return t;
}

/** `List<item>` with a nullable `item` field: one instance per item type instance. */
export function listTypeOf(item: DataType): List {
  return interned(`list(${typeIdOf(item)})`, () => new List(new Field('item', item, true)));
}

/** The shape key of a list of fields: names, nullability and child type instances. */
export function fieldsKey(fields: readonly { readonly name: string; readonly nullable: boolean; readonly type: DataType }[]): string {
  let key = '';
  for (const f of fields) key += `${JSON.stringify(f.name)}${f.nullable ? '?' : '!'}${typeIdOf(f.type)},`;
  return key;
}

export class PackedStrings {
  private constructor(
    readonly bytes: Uint8Array,
    readonly ends: Int32Array,
    readonly valid: readonly boolean[],
    readonly nulls: number,
  ) {}

  // Loops, not `forEach`/`map` with arrow functions: once per resource and scope of every
  // request, and V8 kept recompiling those arrows (bench/NOTES.md, the JIT census).
  static of(values: readonly (Uint8Array | null)[]): PackedStrings {
    const ends = new Int32Array(values.length);
    let size = 0;
    for (let i = 0; i < values.length; i++) ends[i] = size += values[i]?.length ?? 0;
    const bytes = new Uint8Array(size);
    const valid: boolean[] = [];
    let nulls = 0;
    for (let i = 0; i < values.length; i++) {
      const v = values[i]!;
      if (v !== null) bytes.set(v, ends[i]! - v.length);
      else nulls++;
      valid.push(v !== null);
    }
    return new PackedStrings(bytes, ends, valid, nulls);
  }
}

export class Utf8Builder implements ColumnBuilder {
  readonly type: DataType = UTF8;
  length = 0;
  private offsets: Int32Array;
  private data: Buffer;
  private used = 0;
  private readonly validity = new Validity();

  /**
   * `capacity` rows before the offsets grow and `bytesPerRow` bytes per row before the data
   * does: a converter that knows a request's row count passes it, so the offsets are never
   * copied to grow nor copied again by `tight` at the end.
   */
  constructor(capacity = INITIAL, bytesPerRow = 16) {
    // Borrowed (buffer-pool.ts): given back at `finish`, the batch keeps exact copies.
    this.offsets = borrowArray(Int32Array, capacity + 1);
    this.offsets[0] = 0;
    this.data = Buffer.from(borrowBuffer(capacity * bytesPerRow));
  }

  append(value: string | null | undefined): void {
    if (value === null || value === undefined) return this.appendNull();
    const n = value.length;
    // Worst case 3 bytes per UTF-16 unit; reserving avoids a byteLength pass per value.
    this.reserveBytes(n * 3);
    if (n <= SHORT_STRING) {
      // Most telemetry strings are short ASCII; copying them here beats a native call each.
      const data = this.data;
      let at = this.used;
      let i = 0;
      for (; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        data[at++] = c;
      }
      if (i === n) {
        this.used = at;
        this.push(true);
        return;
      }
    }
    this.used += this.data.write(value, this.used, 'utf8');
    this.push(true);
  }

  /** Appends the lowercase hex text of `bytes` (trace and span ids) without an interim string. */
  appendHex(bytes: Uint8Array): void {
    const n = bytes.length;
    this.reserveBytes(n * 2);
    const data = this.data;
    let at = this.used;
    for (let i = 0; i < n; i++) {
      const b = bytes[i]!;
      data[at++] = HEX_DIGITS[b >> 4]!;
      data[at++] = HEX_DIGITS[b & 15]!;
    }
    this.used = at;
    this.push(true);
  }

  /**
   * Appends the string protobuf bytes [start, end) of `src` hold. ASCII (nearly all telemetry)
   * is copied as it is; anything else goes through the UTF-8 decoder, so invalid bytes become
   * U+FFFD exactly as a decoded string would.
   */
  appendUtf8(src: Buffer, start: number, end: number): void {
    const n = end - start;
    this.reserveBytes(n);
    const data = this.data;
    let at = this.used;
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c >= 0x80) {
        this.append(src.toString('utf8', start, end));
        return;
      }
      data[at++] = c;
    }
    this.used = at;
    this.push(true);
  }

  /** Appends the decimal text of a non-negative integer below 2^28 (small int attributes), with no interim string. */
  appendUint28(value: number): void {
    this.reserveBytes(9);
    const data = this.data;
    let digits = 1;
    for (let v = value; v >= 10; v = (v / 10) | 0) digits++;
    let at = this.used + digits;
    this.used = at;
    let v = value;
    do {
      const q = (v / 10) | 0;
      data[--at] = 48 + v - q * 10;
      v = q;
    } while (v > 0);
    this.push(true);
  }

  /** Appends the lowercase hex text of bytes [start, end) of `src`. */
  appendHexRange(src: Uint8Array, start: number, end: number): void {
    this.reserveBytes((end - start) * 2);
    const data = this.data;
    let at = this.used;
    for (let i = start; i < end; i++) {
      const b = src[i]!;
      data[at++] = HEX_DIGITS[b >> 4]!;
      data[at++] = HEX_DIGITS[b & 15]!;
    }
    this.used = at;
    this.push(true);
  }

  appendBytes(bytes: Uint8Array): void {
    this.reserveBytes(bytes.length);
    this.data.set(bytes, this.used);
    this.used += bytes.length;
    this.push(true);
  }

  /** Appends every string of `p`: one copy of the bytes, offsets shifted in one loop. */
  appendPacked(p: PackedStrings): void {
    const n = p.ends.length;
    if (n === 0) return;
    const size = p.bytes.length;
    this.reserveBytes(size);
    const base = this.used;
    const data = this.data;
    const src = p.bytes;
    if (size > 64) data.set(src, base);
    else for (let i = 0; i < size; i++) data[base + i] = src[i]!; // a native call costs more than a short copy
    this.used = base + size;
    const first = this.length;
    // Grown into a borrowed array like `push` does (given back at `finish`), not a fresh one.
    if (this.offsets.length < first + n + 1) this.offsets = grown(this.offsets, first + n + 1);
    const offsets = this.offsets;
    const ends = p.ends;
    for (let i = 0; i < n; i++) offsets[first + 1 + i] = base + ends[i]!;
    this.length = first + n;
    if (p.nulls === 0) {
      // All valid: only a bitmap already materialised (an earlier null) needs the bits.
      this.validity.setValidRun(first, n, offsets.length);
    } else {
      for (let i = 0; i < n; i++) this.validity.set(first + i, p.valid[i]!, offsets.length);
    }
  }

  appendNull(): void {
    this.push(false);
  }

  byteSize(): number {
    return this.used + this.length * 4;
  }

  finish(): Data {
    const length = this.length;
    // The builder keeps the batch's arrays (never the borrowed ones, which are given back).
    const valueOffsets = (this.offsets = settle(this.offsets, length + 1));
    const data = settle(this.data, this.used);
    this.data = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    return utf8Data(this.type, length, this.validity.nullCount, this.validity.bitmap(length), valueOffsets, data);
  }

  private push(valid: boolean): void {
    const i = this.length++;
    if (this.offsets.length < this.length + 1) this.offsets = grown(this.offsets, this.length + 1);
    this.offsets[this.length] = this.used;
    this.validity.set(i, valid, this.offsets.length);
  }

  private reserveBytes(extra: number): void {
    if (this.used + extra <= this.data.length) return;
    const next = Buffer.from(borrowBuffer(Math.max(this.used + extra, this.data.length * 2)));
    this.data.copy(next, 0, 0, this.used);
    returnBuffer(this.data.buffer);
    this.data = next;
  }
}

type NumericArray = Int32Array | Uint32Array | Float64Array | BigInt64Array;

/** A borrowed array twice as long (at least `need`) holding `a`'s elements; `a`'s buffer is given back. */
function grown<A extends NumericArray>(a: A, need: number): A {
  const next = borrowArray(a.constructor as { new (buffer: ArrayBuffer): A; readonly BYTES_PER_ELEMENT: number }, Math.max(need, a.length * 2));
  (next as unknown as { set(x: A): void }).set(a);
  returnBuffer(a.buffer);
  return next;
}

abstract class FixedBuilder<A extends NumericArray, V> implements ColumnBuilder {
  abstract readonly type: DataType;
  length = 0;
  protected values: A;
  protected readonly validity = new Validity();

  /** `capacity`: the rows expected (a request's row count when the converter knows it). */
  constructor(Ctor: { new (buffer: ArrayBuffer): A; readonly BYTES_PER_ELEMENT: number }, capacity = INITIAL) {
    this.values = borrowArray(Ctor, capacity);
  }

  protected abstract zero: V;

  append(value: V | null | undefined): void {
    if (this.length === this.values.length) this.grow();
    const i = this.length++;
    if (value === null || value === undefined) {
      (this.values as unknown as V[])[i] = this.zero;
      this.validity.set(i, false, this.values.length);
    } else {
      (this.values as unknown as V[])[i] = value;
      this.validity.set(i, true, this.values.length);
    }
  }

  appendNull(): void {
    this.append(null);
  }

  byteSize(): number {
    return this.length * this.values.BYTES_PER_ELEMENT;
  }

  finish(): Data {
    const length = this.length;
    return fixedData(this.type, length, this.validity.nullCount, this.validity.bitmap(length), (this.values = settle(this.values, length)));
  }

  protected grow(): void {
    this.values = grown(this.values, this.length + 1);
  }
}

export class Int32Builder extends FixedBuilder<Int32Array, number> {
  readonly type: DataType = INT32;
  protected zero = 0;
  constructor(capacity = INITIAL) {
    super(Int32Array, capacity);
  }
}

export class Uint32Builder extends FixedBuilder<Uint32Array, number> {
  readonly type: DataType = UINT32;
  protected zero = 0;
  constructor(capacity = INITIAL) {
    super(Uint32Array, capacity);
  }
}

export class Float64Builder extends FixedBuilder<Float64Array, number> {
  readonly type: DataType = FLOAT64;
  protected zero = 0;
  constructor(capacity = INITIAL) {
    super(Float64Array, capacity);
  }
}

export class Int64Builder extends FixedBuilder<BigInt64Array, bigint> {
  readonly type: DataType = INT64;
  protected zero = 0n;
  /** The values as 32-bit words (little-endian: low word first), for `appendUint32`. */
  private words: Int32Array<ArrayBufferLike> = new Int32Array(0);
  constructor(capacity = INITIAL) {
    super(BigInt64Array, capacity);
  }

  /**
   * Appends an unsigned 32-bit count or flag word (`0 <= value < 2^32`) without making a bigint:
   * the low word takes its bits, the high word is zero. Six of these per span were six bigint
   * allocations.
   */
  appendUint32(value: number): void {
    this.appendWords(value, 0);
  }

  /**
   * Appends the int64 whose two's-complement words are `lo` and `hi` (each taken modulo 2^32:
   * any integer in (−2^53, 2^53) whose low 32 bits are the word's), without making a bigint.
   * The span times and durations of the one-pass decoder: three bigints per span fewer.
   */
  /**
   * Appends the uint64 of unsigned words `lo`, `hi`, clamped at 2^63 − 1 (a uint64 count or an
   * unsigned time going into a signed column is clamped, not wrapped, as `unixNanoToBigInt` does).
   */
  appendClampedWords(lo: number, hi: number): void {
    if (hi >= 0x80000000) this.appendWords(0xffffffff, 0x7fffffff);
    else this.appendWords(lo, hi);
  }

  appendWords(lo: number, hi: number): void {
    if (this.length === this.values.length) this.grow();
    const i = this.length++;
    let words = this.words;
    if (words.buffer !== this.values.buffer) {
      words = this.words = new Int32Array(this.values.buffer, this.values.byteOffset, this.values.length * 2);
    }
    words[2 * i] = lo | 0;
    words[2 * i + 1] = hi | 0;
    this.validity.set(i, true, this.values.length);
  }
}

/** Unzoned nanosecond timestamps: DuckDB keeps them exact (a zoned one is read as µs). */
export class TimestampNsBuilder extends Int64Builder {
  override readonly type: DataType = TIMESTAMP_NS;
}

export class BoolBuilder implements ColumnBuilder {
  readonly type: DataType = BOOL;
  length = 0;
  private bits: Uint8Array;
  private readonly validity = new Validity();

  constructor(capacity = INITIAL) {
    this.bits = new Uint8Array(Math.max(1, (capacity + 7) >> 3));
  }

  append(value: boolean | null | undefined): void {
    const i = this.length++;
    if ((i >> 3) >= this.bits.length) {
      const next = new Uint8Array(this.bits.length * 2);
      next.set(this.bits);
      this.bits = next;
    }
    if (value === null || value === undefined) {
      this.validity.set(i, false, this.bits.length << 3);
      return;
    }
    if (value) this.bits[i >> 3]! |= 1 << (i & 7);
    this.validity.set(i, true, this.bits.length << 3);
  }

  appendNull(): void {
    this.append(null);
  }

  byteSize(): number {
    return (this.length + 7) >> 3;
  }

  finish(): Data {
    const length = this.length;
    return fixedData(this.type, length, this.validity.nullCount, this.validity.bitmap(length), tight(this.bits, (length + 7) >> 3));
  }
}

/** Offsets plus validity, shared by List and Map builders. */
class OffsetsBuilder {
  length = 0;
  offsets: Int32Array;
  readonly validity = new Validity();

  constructor(capacity = INITIAL) {
    this.offsets = borrowArray(Int32Array, capacity + 1);
    this.offsets[0] = 0;
  }

  push(childLength: number, valid: boolean): void {
    const i = this.length++;
    if (this.offsets.length < this.length + 1) this.offsets = grown(this.offsets, this.length + 1);
    this.offsets[this.length] = childLength;
    this.validity.set(i, valid, this.offsets.length);
  }
}

export const MAP_TYPE = new Map_<Utf8, Utf8>(
  new Field(
    'entries',
    new Struct<{ key: Utf8; value: Utf8 }>([new Field('key', UTF8, false), new Field('value', UTF8, true)]),
    false,
  ),
  false,
);

/** `Map<Utf8, Utf8>`: callers append entries, then close the row with `endRow()`. */
export class StringMapBuilder implements ColumnBuilder {
  readonly type = MAP_TYPE;
  readonly keys: Utf8Builder;
  readonly values: Utf8Builder;
  private readonly rows: OffsetsBuilder;

  /** `rows` expected and about `entriesPerRow` entries each (sizes to start from, see Utf8Builder). */
  constructor(rows = INITIAL, entriesPerRow = 1) {
    this.rows = new OffsetsBuilder(rows);
    this.keys = new Utf8Builder(rows * entriesPerRow);
    this.values = new Utf8Builder(rows * entriesPerRow);
  }

  get length(): number {
    return this.rows.length;
  }

  /** Appends one row holding the entries of `keys` and `values` (the same count). */
  appendPackedRow(keys: PackedStrings, values: PackedStrings): void {
    this.keys.appendPacked(keys);
    this.values.appendPacked(values);
    this.endRow();
  }

  entry(key: string, value: string | null): void {
    this.keys.append(key);
    this.values.append(value);
  }

  endRow(): void {
    this.rows.push(this.keys.length, true);
  }

  appendNull(): void {
    this.rows.push(this.keys.length, false);
  }

  byteSize(): number {
    return this.keys.byteSize() + this.values.byteSize() + this.rows.length * 4;
  }

  finish(): Data {
    const entries = structData(MAP_TYPE.children[0]!.type, this.keys.length, 0, undefined, [this.keys.finish(), this.values.finish()]);
    const length = this.rows.length;
    const valueOffsets = (this.rows.offsets = settle(this.rows.offsets, length + 1));
    return listData(this.type, length, this.rows.validity.nullCount, this.rows.validity.bitmap(length), valueOffsets, entries);
  }
}

/** A struct whose children are builders; every child gets exactly one value per row. */
export class StructBuilder<C extends Record<string, ColumnBuilder>> implements ColumnBuilder {
  readonly type: Struct;
  length = 0;

  constructor(readonly children: C, nullable: Partial<Record<keyof C, boolean>> = {}) {
    const fields: { name: string; type: DataType; nullable: boolean }[] = [];
    for (const name of Object.keys(children)) fields.push({ name, type: children[name]!.type, nullable: nullable[name as keyof C] ?? true });
    this.type = interned(`struct(${fieldsKey(fields)})`, () => new Struct(fields.map((f) => new Field(f.name, f.type, f.nullable))));
  }

  /** Call after appending one value to every child. */
  endRow(): void {
    this.length++;
  }

  appendNull(): void {
    for (const child of Object.values(this.children)) child.appendNull();
    this.length++;
  }

  byteSize(): number {
    let n = 0;
    for (const child of Object.values(this.children)) n += child.byteSize();
    return n;
  }

  finish(): Data {
    const children: Data[] = [];
    for (const child of Object.values(this.children)) children.push(child.finish());
    return structData(this.type, this.length, 0, undefined, children);
  }
}

/** `List<Struct>`: append items to `items`, then close the row with `endRow()`. */
export class ListBuilder<C extends Record<string, ColumnBuilder>> implements ColumnBuilder {
  readonly type: List;
  private readonly rows = new OffsetsBuilder();

  constructor(readonly items: StructBuilder<C>) {
    this.type = listTypeOf(items.type);
  }

  get length(): number {
    return this.rows.length;
  }

  endRow(): void {
    this.rows.push(this.items.length, true);
  }

  appendNull(): void {
    this.rows.push(this.items.length, false);
  }

  byteSize(): number {
    return this.items.byteSize() + this.rows.length * 4;
  }

  finish(): Data {
    const length = this.rows.length;
    const valueOffsets = (this.rows.offsets = settle(this.rows.offsets, length + 1));
    return listData(this.type, length, this.rows.validity.nullCount, this.rows.validity.bitmap(length), valueOffsets, this.items.finish());
  }
}
