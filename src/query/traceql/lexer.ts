/**
 * TraceQL tokens. Identifiers keep their dots and colons (`span.http.request.method`,
 * `trace:rootName`) so the parser can name the whole reference in errors.
 */
import { TraceQLError } from './types.js';

export type TokenKind = 'punct' | 'op' | 'ident' | 'string' | 'number' | 'duration' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** punct/op/ident: as written; string: unescaped; number: as written; duration: ns as decimal text. */
  readonly value: string;
  readonly pos: number;
}

// Longest first, so `>=` is not read as `>` then `=`.
const OPERATORS = ['!>>', '!<<', '&>>', '&<<', '|>>', '|<<', '>>', '<<', '&&', '||', '!=', '>=', '<=', '=~', '!~', '&~', '!~', '=', '>', '<', '~', '!', '|', '+', '-', '*', '/', '%', '^', ','];
const PUNCT = new Set(['{', '}', '(', ')']);
const UNIT_NS: Readonly<Record<string, bigint>> = { ns: 1n, us: 1_000n, 'µs': 1_000n, ms: 1_000_000n, s: 1_000_000_000n, m: 60_000_000_000n, h: 3_600_000_000_000n };
const DURATION_PART = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/;
const NUMBER = /^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/;
const IDENT = /^[A-Za-z_.][\w.\-:/]*/;

/** `1h30m`, `1.5s`, `250ms` → nanoseconds; null when `text` is not a duration. */
export function parseDurationNs(text: string): bigint | null {
  let rest = text;
  let total = 0n;
  if (rest === '') return null;
  while (rest !== '') {
    const m = DURATION_PART.exec(rest);
    if (!m) return null;
    const [whole, frac = ''] = m[1]!.split('.');
    const unit = UNIT_NS[m[2]!]!;
    total += BigInt(whole!) * unit + (frac === '' ? 0n : (BigInt(frac) * unit) / 10n ** BigInt(frac.length));
    rest = rest.slice(m[0].length);
  }
  return total;
}

function readString(text: string, start: number): { value: string; end: number } {
  const quote = text[start]!;
  let out = '';
  let i = start + 1;
  while (i < text.length) {
    const c = text[i]!;
    if (c === quote) return { value: out, end: i + 1 };
    if (c === '\\' && quote !== '`') {
      const n = text[i + 1];
      if (n === undefined) break;
      out += n === 'n' ? '\n' : n === 't' ? '\t' : n;
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  throw new TraceQLError(`unterminated string starting at position ${start}`);
}

export function lex(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (PUNCT.has(c)) {
      tokens.push({ kind: 'punct', value: c, pos: i });
      i++;
      continue;
    }
    if (c === '"' || c === '`') {
      const { value, end } = readString(text, i);
      tokens.push({ kind: 'string', value, pos: i });
      i = end;
      continue;
    }
    if (/\d/.test(c)) {
      const rest = text.slice(i);
      const word = /^[\dA-Za-zµ.+-]*/.exec(rest)![0];
      // A duration is digits and units run together (`1h30m`); anything else is a number.
      const dm = /^(?:\d+(?:\.\d+)?(?:ns|us|µs|ms|s|m|h))+/.exec(rest);
      if (dm && !/^[\w]/.test(rest.slice(dm[0].length))) {
        tokens.push({ kind: 'duration', value: parseDurationNs(dm[0])!.toString(), pos: i });
        i += dm[0].length;
        continue;
      }
      const nm = NUMBER.exec(rest);
      if (!nm || /^[A-Za-z_]/.test(rest.slice(nm[0].length))) throw new TraceQLError(`invalid number or duration ${JSON.stringify(word)} at position ${i} (durations use ns, us, ms, s, m or h)`);
      tokens.push({ kind: 'number', value: nm[0], pos: i });
      i += nm[0].length;
      continue;
    }
    const im = IDENT.exec(text.slice(i));
    if (im) {
      tokens.push({ kind: 'ident', value: im[0], pos: i });
      i += im[0].length;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op) {
      tokens.push({ kind: 'op', value: op, pos: i });
      i += op.length;
      continue;
    }
    throw new TraceQLError(`unexpected character ${JSON.stringify(c)} at position ${i}`);
  }
  tokens.push({ kind: 'eof', value: '', pos: text.length });
  return tokens;
}
