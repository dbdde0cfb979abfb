/**
 * Literal typing: a literal's meaning depends on the column it is compared with, so the
 * parser reads it untyped and converts it here. The conversion is strict (no '5' for an int
 * column, no 1 for a bool) because a silently wrong filter is worse than an error.
 */
import { parseTimestampNs } from '../../time/timestamp.js';
import { FilterError, type ColumnRef, type Literal } from './types.js';

/** A literal as written, before it meets its column. `text` is the source, for messages. */
export type RawLiteral = { readonly pos: number; readonly text: string } & (
  | { readonly kind: 'string' | 'number' | 'timestamp'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'null' }
);

const DECIMAL = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
// Beyond this many digits a literal is surely a mistake; it also keeps 10n ** x cheap.
const MAX_DIGITS = 1000;

/**
 * The exact integer a decimal literal denotes (`1.5e6` → 1500000n), or undefined when it is
 * not integral (`2.5`). Computed from the digits, not via a double, so `9007199254740993`
 * stays exact.
 */
export function exactInteger(text: string): bigint | undefined {
  const m = DECIMAL.exec(text);
  if (m === null) return undefined;
  const frac = m[3] ?? '';
  const digits = (m[2] ?? '') + frac;
  const scale = frac.length - Number(m[4] ?? '0');
  if (/^0*$/.test(digits)) return 0n;
  if (Math.abs(scale) > MAX_DIGITS) return undefined;
  let n: bigint;
  if (scale <= 0) {
    n = BigInt(digits) * 10n ** BigInt(-scale);
  } else {
    if (!digits.endsWith('0'.repeat(scale))) return undefined;
    n = BigInt(digits.slice(0, digits.length - scale));
  }
  return m[1] === '-' ? -n : n;
}

const TIMESTAMP_SYNTAX =
  "expected RFC 3339 such as '2024-01-01T00:00:00Z' (up to 9 fractional digits, Z or ±hh:mm offset) or a date '2024-01-01'";

/** Converts `raw` to the type of `col` (see `Literal`), or throws at the literal's position. */
export function coerceLiteral(col: ColumnRef, display: string, raw: RawLiteral): Literal {
  if (raw.kind === 'null') {
    throw FilterError.at(raw.pos, `cannot compare with NULL (the result is never true); use ${display} IS NULL or IS NOT NULL`);
  }
  const mismatch = (hint = ''): FilterError => {
    const what = raw.kind === 'timestamp' ? 'timestamp' : raw.kind === 'bool' ? 'boolean' : raw.kind;
    return FilterError.at(raw.pos, `cannot compare ${col.type} column ${display} with ${what} ${raw.text}${hint}`);
  };
  switch (col.type) {
    case 'string':
      if (raw.kind === 'string') return raw.value;
      throw mismatch(raw.kind === 'number' ? ` (quote it: '${raw.text}')` : '');
    case 'bool':
      if (raw.kind === 'bool') return raw.value;
      throw mismatch(' (use TRUE or FALSE)');
    case 'int':
    case 'float': {
      if (raw.kind !== 'number') throw mismatch();
      const n = Number(raw.value);
      if (!Number.isFinite(n)) throw FilterError.at(raw.pos, `number ${raw.text} is out of range`);
      // int columns keep exact integers; a non-integral literal stays a number (see Literal).
      return col.type === 'float' ? n : (exactInteger(raw.value) ?? n);
    }
    case 'timestamp': {
      if (raw.kind !== 'string' && raw.kind !== 'timestamp') {
        throw mismatch(" (write TIMESTAMP '2024-01-01T00:00:00Z' or an RFC 3339 string)");
      }
      const ns = parseTimestampNs(raw.value);
      if (ns === undefined) throw FilterError.at(raw.pos, `invalid timestamp ${raw.text}: ${TIMESTAMP_SYNTAX}`);
      return ns;
    }
    case 'map':
      // The parser rejects bare map columns before any literal is read.
      throw mismatch();
  }
}
