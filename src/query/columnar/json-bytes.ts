/**
 * JSON text appended as UTF-8 bytes to one growing buffer: the output side of the column
 * serialisers. Every writer produces exactly what `JSON.stringify` does for the same value
 * (strings escaped alike, lone surrogates as `\udXXX`), so the answer is byte for byte the
 * one the record path gives; the common cases (short ASCII strings, integers, nanosecond
 * timestamps) are written in place without an interim string.
 */
import { nsToRfc3339 } from '../json-values.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NS = 1_000_000_000n;
/** JSON.stringify's two-character escapes, by the escaped byte. */
const SHORT_ESCAPES: Partial<Record<number, number>> = { 0x08: 0x62, 0x09: 0x74, 0x0a: 0x6e, 0x0c: 0x66, 0x0d: 0x72, 0x22: 0x22, 0x5c: 0x5c };
const HEX = new TextEncoder().encode('0123456789abcdef');
/** 9999-12-31T23:59:59Z: the fast timestamp path covers 1970 to 9999, the rest goes through Date. */
const MAX_FAST_SECONDS = 253_402_300_799;

export class JsonBytes {
  buf: Buffer;
  pos = 0;

  constructor(readonly initialBytes: number) {
    // Not from Node's pool: batches are copied out of it, and it is reused for the next one.
    this.buf = Buffer.allocUnsafeSlow(initialBytes);
  }

  /** The bytes written so far, copied into a buffer of their own (transferable), then forgotten. */
  take(): Uint8Array {
    const out = new Uint8Array(this.pos);
    out.set(this.buf.subarray(0, this.pos));
    this.pos = 0;
    if (this.buf.length > 4 * this.initialBytes) this.buf = Buffer.allocUnsafeSlow(this.initialBytes); // after a huge row
    return out;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Bytes known in advance (keys, punctuation). */
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  /** Text that is already JSON (a `JSON.stringify` result, a number's digits). */
  text(s: string): void {
    const n = s.length;
    this.ensure(n * 3);
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) {
        this.pos += b.write(s, this.pos, 'utf8');
        return;
      }
      b[p++] = c;
    }
    this.pos = p;
  }

  null(): void {
    this.ensure(4);
    const b = this.buf;
    const p = this.pos;
    b[p] = 0x6e;
    b[p + 1] = 0x75;
    b[p + 2] = 0x6c;
    b[p + 3] = 0x6c;
    this.pos = p + 4;
  }

  /** A quoted, escaped JSON string. */
  string(s: string): void {
    const n = s.length;
    this.ensure(n + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = QUOTE;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      // Control characters, quote, backslash and anything beyond ASCII: JSON.stringify decides.
      if (c < 0x20 || c === QUOTE || c === BACKSLASH || c > 0x7f) {
        this.text(JSON.stringify(s));
        return;
      }
      b[p++] = c;
    }
    b[p++] = QUOTE;
    this.pos = p;
  }

  /**
   * A quoted, escaped JSON string from well-formed UTF-8 bytes `src[start, end)` (an Arrow Utf8
   * column's values): what `string()` writes for the decoded text. JSON.stringify escapes only
   * the quote, the backslash and control characters; every other character (non-ASCII
   * included) is copied as its UTF-8 bytes. Well-formed UTF-8 holds no lone surrogates.
   */
  utf8(src: Uint8Array, start: number, end: number): void {
    // At most 6 bytes (`\u00XX`) per input byte, and the quotes.
    this.ensure((end - start) * 6 + 2);
    const b = this.buf;
    let p = this.pos;
    b[p++] = QUOTE;
    for (let i = start; i < end; i++) {
      const c = src[i]!;
      if (c >= 0x20 && c !== QUOTE && c !== BACKSLASH) {
        b[p++] = c;
        continue;
      }
      b[p++] = BACKSLASH;
      const short = SHORT_ESCAPES[c];
      if (short !== undefined) {
        b[p++] = short;
      } else {
        // \u00XX with lowercase hex digits, as JSON.stringify writes them.
        b[p++] = 0x75;
        b[p++] = 0x30;
        b[p++] = 0x30;
        b[p++] = HEX[c >> 4]!;
        b[p++] = HEX[c & 15]!;
      }
    }
    b[p++] = QUOTE;
    this.pos = p;
  }

  /** A finite number as JSON.stringify writes it. */
  number(n: number): void {
    if (Number.isSafeInteger(n)) this.int(n);
    else this.text(Number.isFinite(n) ? String(n) : 'null');
  }

  /** A safe integer's decimal digits. */
  int(n: number): void {
    this.ensure(17);
    const b = this.buf;
    let p = this.pos;
    if (n < 0) {
      b[p++] = 0x2d;
      n = -n;
    }
    if (n < 10) {
      b[p++] = 0x30 + n;
      this.pos = p;
      return;
    }
    let digits = 1;
    for (let m = n; m >= 10; m = Math.floor(m / 10)) digits++;
    let at = p + digits;
    this.pos = at;
    while (n >= 10) {
      const q = Math.floor(n / 10);
      b[--at] = 0x30 + (n - q * 10);
      n = q;
    }
    b[--at] = 0x30 + n;
  }

  /** A 64-bit integer as `int64()` makes it: a number while exact, else its decimal text quoted. */
  bigint(v: bigint): void {
    if (v <= 9_007_199_254_740_991n && v >= -9_007_199_254_740_991n) this.int(Number(v));
    else this.string(v.toString());
  }

  /** Nanoseconds since the epoch as `nsToRfc3339` writes them: `"YYYY-MM-DDTHH:MM:SS.fffffffffZ"`. */
  timestampNs(ns: bigint): void {
    const secs = ns / NS;
    const s = Number(secs);
    if (ns < 0n || s > MAX_FAST_SECONDS) {
      this.string(nsToRfc3339(ns));
      return;
    }
    let frac = Number(ns - secs * NS);
    const days = Math.floor(s / 86_400);
    let sod = s - days * 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm; days >= 0 here).
    const z = days + 719_468;
    const era = Math.floor(z / 146_097);
    const doe = z - era * 146_097;
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
    const mp = Math.floor((5 * doy + 2) / 153);
    const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
    const month = mp < 10 ? mp + 3 : mp - 9;
    const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
    this.ensure(32);
    const b = this.buf;
    const p = this.pos;
    b[p] = QUOTE;
    digits(b, p + 1, year, 4);
    b[p + 5] = 0x2d;
    digits(b, p + 6, month, 2);
    b[p + 8] = 0x2d;
    digits(b, p + 9, day, 2);
    b[p + 11] = 0x54; // T
    const hour = Math.floor(sod / 3600);
    sod -= hour * 3600;
    const minute = Math.floor(sod / 60);
    digits(b, p + 12, hour, 2);
    b[p + 14] = 0x3a;
    digits(b, p + 15, minute, 2);
    b[p + 17] = 0x3a;
    digits(b, p + 18, sod - minute * 60, 2);
    b[p + 20] = 0x2e;
    for (let at = p + 29; at > p + 20; at--) {
      const q = Math.floor(frac / 10);
      b[at] = 0x30 + (frac - q * 10);
      frac = q;
    }
    b[p + 30] = 0x5a; // Z
    b[p + 31] = QUOTE;
    this.pos = p + 32;
  }
}

/** `n` as exactly `width` decimal digits at `at`. */
function digits(b: Uint8Array, at: number, n: number, width: number): void {
  for (let i = at + width - 1; i >= at; i--) {
    const q = Math.floor(n / 10);
    b[i] = 0x30 + (n - q * 10);
    n = q;
  }
}
