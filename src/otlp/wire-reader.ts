/**
 * Primitives of the protobuf wire format over one request body, for the one-pass decoders that
 * read OTLP straight into column builders (no intermediate message objects).
 *
 * The one-pass decoders (traces, logs, metrics) have no walk before them: they use the checked
 * reads (`…In`), which throw NotClean where the limits walk (limits.ts) would not vouch for the
 * body, and then take the walk + protobufjs road, which describes the problem (decode.ts). The
 * plain reads trust the structure of bytes already checked that way — a part walked whole by a
 * `WireGuard` (every length within its message, every known field with its wire type, nesting
 * bounded) —, so bounds are not checked again.
 */
import type { Signal } from './json-ids.js';

/**
 * A request body to be decoded by the pipeline straight into columns, not yet checked: its
 * decoder checks it as it reads.
 */
export class WireRequest {
  constructor(
    readonly signal: Signal,
    readonly body: Uint8Array,
  ) {}
}

const TWO_32 = 4294967296;

/** The unsigned 64-bit integer of 32-bit words `lo`, `hi` (below 2^53 one bigint from an exact double). */
export function wordsToBigInt(lo: number, hi: number): bigint {
  return hi < 0x200000 ? BigInt(hi * TWO_32 + lo) : (BigInt(hi) << 32n) | BigInt(lo);
}

/**
 * A checked one-pass decoder met bytes the limits walk would not call complete (malformed,
 * a wrong wire type, an encoding protobufjs reads its own way, too many messages). Not an
 * error to answer with: the caller drops what it read and takes the walk + protobufjs road,
 * which names the problem exactly as before (limits.ts `WireGuard`).
 */
export class NotClean extends Error {
  constructor() {
    super('the body needs the limits walk');
  }
}

/** Longest tag or 32-bit varint protobufjs reads alike (limits.ts LONGEST_SHORT_VARINT). */
const SHORT = 5;

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
    return wordsToBigInt(lo, hi);
  }

  /**
   * A fixed64 as its two unsigned 32-bit words into `lo`/`hi`, with no bigint (a value bound
   * for an Int64 column through `Int64Builder.appendWords`).
   */
  fixed64Words(): void {
    this.lo = this.buf.readUInt32LE(this.pos);
    this.hi = this.buf.readUInt32LE(this.pos + 4);
    this.pos += 8;
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

  // ---- checked reads -------------------------------------------------------------
  // For the decoders, which run without the walk before them: each read stays inside `end`
  // (the enclosing message's end) and throws NotClean wherever the walk would stop or call the
  // body odd, by the same rules (limits.ts Walker: varints of at most 10 bytes; a tag over 5
  // bytes, a length or 32-bit value of 6 to 9 bytes is read differently by protobufjs).

  /** Bytes of the last `varintIn`. */
  n = 0;

  /** A varint inside `end`, as the walk reads it (the value below 2^53 is exact). */
  varintIn(end: number): number {
    const buf = this.buf;
    let pos = this.pos;
    if (pos < end) {
      const b = buf[pos]!;
      if (b < 0x80) {
        this.pos = pos + 1;
        this.n = 1;
        return b;
      }
    }
    const from = pos;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= end || shift > 63) throw new NotClean();
      const b = buf[pos++]!;
      if (shift < 53) result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        this.pos = pos;
        this.n = pos - from;
        return result;
      }
      shift += 7;
    }
  }

  /** A tag inside `end` (at most 5 bytes). Compare it whole with known tags; `& 7` is its wire type. */
  tagIn(end: number): number {
    const tag = this.varintIn(end);
    if (this.n > SHORT) throw new NotClean();
    return tag;
  }

  /** A length-delimited value inside `end`: returns its end, with `pos` at its start. */
  lengthIn(end: number): number {
    const len = this.varintIn(end);
    if (this.n > SHORT && this.n < 10) throw new NotClean();
    const stop = this.pos + len;
    if (stop > end) throw new NotClean();
    return stop;
  }

  /** Checks that a 32-bit varint value starts at `pos` inside `end`, and leaves `pos` there for the trusting read. */
  checkVarint32(end: number): void {
    const at = this.pos;
    this.varintIn(end);
    if (this.n > SHORT && this.n < 10) throw new NotClean();
    this.pos = at;
  }

  /** Checks that `width` bytes of a fixed-width value fit inside `end`. */
  checkFixed(width: number, end: number): void {
    if (this.pos + width > end) throw new NotClean();
  }

  /**
   * Skips a field the decoder does not read, inside `end`. `known` has bit f set for each field
   * number f (< 32) of the message's type: a known field here arrived with another wire type than
   * the decoder's cases take, which the walk refuses. Unknown fields are skipped unread, as the
   * walk skips them.
   */
  skipIn(tag: number, end: number, known: number): void {
    const field = Math.floor(tag / 8);
    if (field < 32 && (known & (1 << field)) !== 0) throw new NotClean();
    switch (tag & 7) {
      case 0:
        this.varintIn(end);
        return;
      case 1:
        if ((this.pos += 8) > end) throw new NotClean();
        return;
      case 2:
        this.pos = this.lengthIn(end);
        return;
      case 5:
        if ((this.pos += 4) > end) throw new NotClean();
        return;
      default:
        throw new NotClean(); // groups and invalid wire types
    }
  }

  /** The text of bytes [start, end), decoded as protobufjs does (Node's UTF-8, U+FFFD for bad bytes). */
  text(start: number, end: number): string {
    return this.buf.toString('utf8', start, end);
  }
}
