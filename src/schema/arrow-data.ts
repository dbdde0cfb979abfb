/**
 * Arrow `Data` made directly, not through apache-arrow's `makeData`.
 *
 * `makeData` dispatches on the type through a visitor (`getVisitFnByTypeId`); that dispatch is
 * shared with every other visitor apache-arrow runs (the IPC writer's assemblers, the type
 * visitors), so V8 kept deoptimizing and recompiling it as it met visitors and types in a new
 * mix (the lead's TurboFan census, bench/NOTES.md). The builders and the flush sort know each
 * column's kind, so they call the `Data` constructor with the buffers `makeData` would have
 * passed: the same objects, in the same property order, without the dispatch.
 *
 * Buffers follow `makeData`: a missing validity bitmap is an empty `Uint8Array` (so every Data
 * of a kind has the same hidden class), and a Node `Buffer` is re-viewed as a plain
 * `Uint8Array` (apache-arrow relies on `Uint8Array#slice` copying, which `Buffer#slice` does not).
 */
import { Data, type DataType } from 'apache-arrow';

type Values = Int32Array | Uint32Array | Float64Array | BigInt64Array | BigUint64Array | Float32Array | Int8Array | Int16Array | Uint8Array | Uint16Array;

function plainBytes(bytes: Uint8Array): Uint8Array {
  return bytes instanceof Buffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
}

function bitmapOf(bitmap: Uint8Array | undefined): Uint8Array {
  return bitmap === undefined ? new Uint8Array(0) : plainBytes(bitmap);
}

/** Fixed-width values (ints, floats, timestamps) or a boolean column's bits. */
export function fixedData<T extends DataType>(type: T, length: number, nullCount: number, nullBitmap: Uint8Array | undefined, values: Values): Data<T> {
  return new Data(type, 0, length, nullCount, [undefined, values instanceof Buffer ? plainBytes(values) : values, bitmapOf(nullBitmap)]);
}

/** UTF-8 strings: `valueOffsets` (length + 1 entries) into `bytes`. */
export function utf8Data<T extends DataType>(type: T, length: number, nullCount: number, nullBitmap: Uint8Array | undefined, valueOffsets: Int32Array, bytes: Uint8Array): Data<T> {
  return new Data(type, 0, length, nullCount, [valueOffsets, plainBytes(bytes), bitmapOf(nullBitmap)]);
}

/** A list or map: `valueOffsets` into its one child. */
export function listData<T extends DataType>(type: T, length: number, nullCount: number, nullBitmap: Uint8Array | undefined, valueOffsets: Int32Array, child: Data): Data<T> {
  return new Data(type, 0, length, nullCount, [valueOffsets, undefined, bitmapOf(nullBitmap)], [child]);
}

/** A struct of `children` (each `length` rows). */
export function structData<T extends DataType>(type: T, length: number, nullCount: number, nullBitmap: Uint8Array | undefined, children: Data[]): Data<T> {
  return new Data(type, 0, length, nullCount, [undefined, undefined, bitmapOf(nullBitmap)], children);
}
