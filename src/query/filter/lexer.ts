/**
 * Tokeniser for the filter language. Eager (the whole text at once): filters are short, and
 * the parser then gets cheap lookahead.
 */
import { FilterError } from './types.js';

export type TokenKind = 'ident' | 'keyword' | 'string' | 'number' | 'op' | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** ident: the name; keyword: upper case; string: the unescaped content; number/op: as written. */
  readonly value: string;
  /** 0-based offsets into the filter text: [pos, end). */
  readonly pos: number;
  readonly end: number;
  /** ident only: written as "double-quoted", so never a keyword. */
  readonly quoted?: boolean;
}

// Reserved words. TIMESTAMP is deliberately not one: it only starts a literal when a string
// follows (`TIMESTAMP '…'`), so a column called `timestamp` still works unquoted.
const KEYWORDS = new Set(['AND', 'OR', 'NOT', 'IN', 'LIKE', 'IS', 'NULL', 'TRUE', 'FALSE']);

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const IDENT_CHAR = /[A-Za-z0-9_]/;
// Longest first, so `<=` is not read as `<` then `=`.
const OPERATORS = ['<=', '>=', '<>', '!=', '=', '<', '>', '(', ')', ',', '[', ']', '-'];

/** Reads a quoted run starting at `start` (a `'` or `"`); a doubled quote stands for one. */
function readQuoted(text: string, start: number, what: string): { value: string; end: number } {
  const q = text[start]!;
  let value = '';
  let i = start + 1;
  for (;;) {
    const j = text.indexOf(q, i);
    if (j < 0) throw FilterError.at(start, `unterminated ${what} (no closing ${q})`);
    value += text.slice(i, j);
    if (text[j + 1] !== q) return { value, end: j + 1 };
    value += q;
    i = j + 2;
  }
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
    if (c === "'") {
      const { value, end } = readQuoted(text, i, 'string literal');
      tokens.push({ kind: 'string', value, pos: i, end });
      i = end;
      continue;
    }
    if (c === '"') {
      const { value, end } = readQuoted(text, i, 'quoted identifier');
      if (value === '') throw FilterError.at(i, 'empty quoted identifier ""');
      tokens.push({ kind: 'ident', value, pos: i, end, quoted: true });
      i = end;
      continue;
    }
    IDENT.lastIndex = i;
    const ident = IDENT.exec(text);
    if (ident !== null) {
      const word = ident[0];
      const upper = word.toUpperCase();
      const end = i + word.length;
      tokens.push(KEYWORDS.has(upper) ? { kind: 'keyword', value: upper, pos: i, end } : { kind: 'ident', value: word, pos: i, end });
      i = end;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(text);
    if (num !== null) {
      const end = i + num[0].length;
      // `12abc` or `1e` is a typo, not the number 12 followed by a column.
      if (end < text.length && IDENT_CHAR.test(text[end]!)) {
        throw FilterError.at(i, `invalid number '${text.slice(i, end + 1)}'`);
      }
      tokens.push({ kind: 'number', value: num[0], pos: i, end });
      i = end;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (op === undefined) throw FilterError.at(i, `unexpected character '${c}'`);
    tokens.push({ kind: 'op', value: op, pos: i, end: i + op.length });
    i += op.length;
  }
  tokens.push({ kind: 'eof', value: '', pos: text.length, end: text.length });
  return tokens;
}

/** How error messages name a token: `end of input`, `AND`, `'='`, `"name"`, `string 'x'`. */
export function describeToken(t: Token, text: string): string {
  const raw = text.slice(t.pos, t.end);
  const short = raw.length > 40 ? `${raw.slice(0, 37)}...` : raw;
  switch (t.kind) {
    case 'eof':
      return 'end of input';
    case 'keyword':
      return short.toUpperCase();
    case 'ident':
      return t.quoted === true ? short : `"${short}"`;
    case 'string':
      return `string ${short}`;
    case 'number':
      return `number ${short}`;
    case 'op':
      return `'${short}'`;
  }
}
