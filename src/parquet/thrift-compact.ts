/**
 * A lossless Thrift compact-protocol codec: structs are read into a tree of typed fields and
 * written back byte for byte, unknown fields included. The page recompressor (`recompress.ts`)
 * edits a few integer fields of Parquet's page headers, column metadata and offset indexes and
 * must carry every other field (statistics, encodings, size statistics, key-value metadata, fields
 * added by future parquet-format versions) through untouched — which a typed Parquet reader's
 * decoded objects would not (hyparquet drops or converts fields it does not model).
 */

export const T = {
  STOP: 0,
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

export type ThriftValue = boolean | number | bigint | Uint8Array | ThriftList | ThriftMap | ThriftStruct;
export interface ThriftList {
  readonly kind: 'list';
  /** LIST or SET (kept to write the same type back). */
  readonly type: number;
  readonly elementType: number;
  readonly items: ThriftValue[];
}
export interface ThriftMap {
  readonly kind: 'map';
  readonly keyType: number;
  readonly valueType: number;
  readonly entries: [ThriftValue, ThriftValue][];
}
export interface ThriftField {
  readonly id: number;
  /** Wire type; booleans are TRUE or FALSE as read, and re-derived from the value on write. */
  type: number;
  value: ThriftValue;
}
/** A struct: its fields in wire order. */
export interface ThriftStruct {
  readonly kind: 'struct';
  readonly fields: ThriftField[];
}

export class ThriftReader {
  pos: number;
  constructor(
    private readonly bytes: Uint8Array,
    offset = 0,
  ) {
    this.pos = offset;
  }

  private byte(): number {
    if (this.pos >= this.bytes.length) throw new RangeError('thrift: read past the end of the buffer');
    return this.bytes[this.pos++]!;
  }

  private varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new RangeError('thrift: varint too long');
    }
  }

  private varint32(): number {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = this.byte();
      result |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result >>> 0;
      shift += 7;
      if (shift > 35) throw new RangeError('thrift: varint too long');
    }
  }

  private zigzag32(): number {
    const n = this.varint32();
    return (n >>> 1) ^ -(n & 1);
  }

  private zigzag64(): bigint {
    const n = this.varint();
    return (n >> 1n) ^ -(n & 1n);
  }

  value(type: number): ThriftValue {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        // Inside a list a bool is one byte (1 true, 2 false, some writers 0 false).
        return this.byte() === T.TRUE;
      case T.BYTE: {
        const b = this.byte();
        return b > 127 ? b - 256 : b;
      }
      case T.I16:
      case T.I32:
        return this.zigzag32();
      case T.I64:
        return this.zigzag64();
      case T.DOUBLE: {
        const view = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8);
        this.pos += 8;
        return view.getFloat64(0, true);
      }
      case T.BINARY: {
        const length = this.varint32();
        if (this.pos + length > this.bytes.length) throw new RangeError('thrift: binary past the end of the buffer');
        const out = this.bytes.subarray(this.pos, this.pos + length);
        this.pos += length;
        return out;
      }
      case T.LIST:
      case T.SET: {
        const header = this.byte();
        let size = header >> 4;
        if (size === 15) size = this.varint32();
        const elementType = header & 0x0f;
        const items: ThriftValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elementType));
        return { kind: 'list', type, elementType, items };
      }
      case T.MAP: {
        const size = this.varint32();
        const types = size > 0 ? this.byte() : 0;
        const keyType = types >> 4;
        const valueType = types & 0x0f;
        const entries: [ThriftValue, ThriftValue][] = [];
        for (let i = 0; i < size; i++) entries.push([this.value(keyType), this.value(valueType)]);
        return { kind: 'map', keyType, valueType, entries };
      }
      case T.STRUCT:
        return this.struct();
      default:
        throw new RangeError(`thrift: unknown compact type ${type}`);
    }
  }

  struct(): ThriftStruct {
    const fields: ThriftField[] = [];
    let last = 0;
    for (;;) {
      const header = this.byte();
      const type = header & 0x0f;
      if (type === T.STOP) return { kind: 'struct', fields };
      const delta = header >> 4;
      const id = delta === 0 ? this.zigzag32() : last + delta;
      last = id;
      // A struct field's bool lives in its header's type nibble.
      const value = type === T.TRUE ? true : type === T.FALSE ? false : this.value(type);
      fields.push({ id, type, value });
    }
  }
}

export class ThriftWriter {
  private buf = new Uint8Array(256);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  private byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b & 0xff;
  }

  private varint(n: bigint): void {
    let v = BigInt.asUintN(64, n);
    while (v >= 0x80n) {
      this.byte(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.byte(Number(v));
  }

  private varint32(n: number): void {
    let v = n >>> 0;
    while (v >= 0x80) {
      this.byte((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    this.byte(v);
  }

  private zigzag32(n: number): void {
    this.varint32((n << 1) ^ (n >> 31));
  }

  private zigzag64(n: bigint): void {
    this.varint((n << 1n) ^ (n >> 63n));
  }

  value(type: number, value: ThriftValue): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        this.byte(value === true ? T.TRUE : T.FALSE);
        return;
      case T.BYTE:
        this.byte(value as number);
        return;
      case T.I16:
      case T.I32:
        this.zigzag32(value as number);
        return;
      case T.I64:
        this.zigzag64(value as bigint);
        return;
      case T.DOUBLE: {
        this.reserve(8);
        new DataView(this.buf.buffer, this.length, 8).setFloat64(0, value as number, true);
        this.length += 8;
        return;
      }
      case T.BINARY: {
        const bytes = value as Uint8Array;
        this.varint32(bytes.length);
        this.raw(bytes);
        return;
      }
      case T.LIST:
      case T.SET: {
        const list = value as ThriftList;
        if (list.items.length < 15) this.byte((list.items.length << 4) | list.elementType);
        else {
          this.byte(0xf0 | list.elementType);
          this.varint32(list.items.length);
        }
        for (const item of list.items) this.value(list.elementType, item);
        return;
      }
      case T.MAP: {
        const map = value as ThriftMap;
        this.varint32(map.entries.length);
        if (map.entries.length > 0) this.byte((map.keyType << 4) | map.valueType);
        for (const [k, v] of map.entries) {
          this.value(map.keyType, k);
          this.value(map.valueType, v);
        }
        return;
      }
      case T.STRUCT:
        this.struct(value as ThriftStruct);
        return;
      default:
        throw new RangeError(`thrift: unknown compact type ${type}`);
    }
  }

  struct(struct: ThriftStruct): void {
    let last = 0;
    for (const field of struct.fields) {
      const isBool = field.type === T.TRUE || field.type === T.FALSE;
      const type = isBool ? (field.value === true ? T.TRUE : T.FALSE) : field.type;
      const delta = field.id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.zigzag32(field.id);
      }
      last = field.id;
      if (!isBool) this.value(type, field.value);
    }
    this.byte(T.STOP);
  }

  raw(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buf.set(bytes, this.length);
    this.length += bytes.length;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}

/** The field `id` of a struct, if present. */
export function field(struct: ThriftStruct, id: number): ThriftField | undefined {
  return struct.fields.find((f) => f.id === id);
}

/** Sets an integer field (replacing it, or inserting it in id order). */
export function setInt(struct: ThriftStruct, id: number, type: typeof T.I32 | typeof T.I64, value: number | bigint): void {
  const v = type === T.I64 ? BigInt(value) : Number(value);
  const existing = field(struct, id);
  if (existing) {
    existing.type = type;
    existing.value = v;
    return;
  }
  const at = struct.fields.findIndex((f) => f.id > id);
  const f: ThriftField = { id, type, value: v };
  if (at < 0) struct.fields.push(f);
  else struct.fields.splice(at, 0, f);
}

/** Removes field `id` if present. */
export function removeField(struct: ThriftStruct, id: number): void {
  const at = struct.fields.findIndex((f) => f.id === id);
  if (at >= 0) struct.fields.splice(at, 1);
}
