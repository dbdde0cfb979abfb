/**
 * Primitives of the protobuf wire format over one request body, for the one-pass decoders that
 * read OTLP straight into column builders (no intermediate message objects).
 *
 * They trust the body's structure: a decoder runs only on bodies the limits walk (limits.ts)
 * went through completely — every length within its message, every known field with its wire
 * type, nesting bounded — so bounds are not checked again here. Anything the walk could not
 * vouch for goes through protobufjs instead (decode.ts), which describes the problem.
 */
import type { Signal } from './json-ids.js';

/** A request body the walk vouched for, to be decoded by the pipeline straight into columns. */
export class WireRequest {
  constructor(
    readonly signal: Signal,
    readonly body: Uint8Array,
  ) {}
}

const TWO_32 = 4294967296;

export class WireReader {
  /** The body as a Buffer (same memory), for native UTF-8, base64 and float reads. */
  readonly buf: Buffer;
  pos = 0;
  /** The high and low 32 bits of the last `varint64()`. */
  hi = 0;
  lo = 0;

  constructor(body: Uint8Array) {
    this.buf = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  }

  /**
   * A tag or length. The walk let through only encodings protobufjs reads alike (at most 5
   * bytes, or 10 with a small value), so the bits kept here (below 2^53) are the whole value.
   */
  varint(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    if (b < 0x80) return b;
    let result = b & 0x7f;
    let scale = 128;
    do {
      b = buf[this.pos++]!;
      if (scale <= 2 ** 46) result += (b & 0x7f) * scale;
      scale *= 128;
    } while (b >= 0x80);
    return result;
  }

  /** protobufjs `uint32()`: the low 32 bits, unsigned. */
  uint32(): number {
    const buf = this.buf;
    let b = buf[this.pos++]!;
    let v = b & 0x7f;
    if (b < 0x80) return v;
    b = buf[this.pos++]!;
    v |= (b & 0x7f) << 7;
    if (b < 0x80) return v;
    b = buf[this.pos++]!;
    v |= (b & 0x7f) << 14;
    if (b < 0x80) return v;
    b = buf[this.pos++]!;
    v |= (b & 0x7f) << 21;
    if (b < 0x80) return v;
    b = buf[this.pos++]!;
    v |= (b & 0x0f) << 28;
    while (b >= 0x80) b = buf[this.pos++]!; // the high bits of a 64-bit encoding
    return v >>> 0;
  }

  /** protobufjs `int32()`: the low 32 bits, signed. */
  int32(): number {
    return this.uint32() | 0;
  }

  /** A 64-bit varint into `hi`/`lo`. */
  varint64(): void {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    let b: number;
    // Bits 0-27 from the first four bytes, 28-31 and 32-34 from the fifth, the rest into `hi`.
    do {
      b = buf[this.pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi = (b & 0x7f) >> 4;
      } else if (shift < 64) hi |= (b & 0x7f) << (shift - 32);
      shift += 7;
    } while (b >= 0x80);
    this.lo = lo >>> 0;
    this.hi = hi >>> 0;
  }

  /** An int64 varint as a signed bigint (protobufjs `int64()`). */
  int64(): bigint {
    this.varint64();
    return BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
  }

  fixed32(): number {
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }

  /** An unsigned fixed64 as a bigint. */
  fixed64(): bigint {
    const lo = this.buf.readUInt32LE(this.pos);
    const hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
    return hi < 0x200000 ? BigInt(hi * TWO_32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
  }

  double(): number {
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Skips a field's value of wire type `wire` (never a group: the walk refused those). */
  skip(wire: number): void {
    switch (wire) {
      case 0:
        this.varint();
        return;
      case 1:
        this.pos += 8;
        return;
      case 2: {
        const len = this.varint();
        this.pos += len;
        return;
      }
      case 5:
        this.pos += 4;
        return;
      default:
        throw new Error(`wire type ${wire} at offset ${this.pos}: the limits walk should have refused it`);
    }
  }

  /** The text of bytes [start, end), decoded as protobufjs does (Node's UTF-8, U+FFFD for bad bytes). */
  text(start: number, end: number): string {
    return this.buf.toString('utf8', start, end);
  }
}
