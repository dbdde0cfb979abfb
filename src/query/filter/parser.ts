/**
 * Recursive-descent parser: tokens → typed `Expr`, checked against the column catalog.
 *
 * Types are checked while parsing, not afterwards, so each error can point at the exact token
 * that is wrong. Grammar (docs/query.md, "Filters"):
 *
 *   filter    := or EOF
 *   or        := and { OR and }
 *   and       := not { AND not }
 *   not       := NOT not | predicate
 *   predicate := '(' or ')' | TRUE | FALSE | column tail | column | literal cmpop column
 *   tail      := cmpop literal | [NOT] IN '(' literal {',' literal} ')' | [NOT] LIKE string
 *              | IS [NOT] NULL
 *   column    := ident ['[' string ']'] | "quoted ident" ['[' string ']']
 *   literal   := string | ['-'] number | TRUE | FALSE | NULL | TIMESTAMP string
 *
 * A bare `column` is only allowed for bool columns (`is_root` means `is_root = TRUE`).
 */
import { describeToken, lex, type Token } from './lexer.js';
import { coerceLiteral, type RawLiteral } from './literals.js';
import { unknownColumn } from './suggest.js';
import { FilterError, type CmpOp, type ColumnCatalog, type ColumnRef, type Expr } from './types.js';

const CMP_OPS: ReadonlyMap<string, CmpOp> = new Map<string, CmpOp>([
  ['=', '='], ['!=', '!='], ['<>', '!='], ['<', '<'], ['<=', '<='], ['>', '>'], ['>=', '>='],
]);
// `5 < x` is `x > 5`.
const FLIPPED: Readonly<Record<CmpOp, CmpOp>> = { '=': '=', '!=': '!=', '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

/** A column reference plus where it was written, for error messages. */
interface Col {
  readonly ref: ColumnRef;
  readonly pos: number;
  readonly display: string;
}

/** Limits on a filter's text, checked before anything else (issue 21: hostile filters). */
export interface FilterLimits {
  /** UTF-8 bytes of the filter text ([query] max_filter_bytes). */
  readonly maxBytes?: number;
  /** Nesting of `(` and `NOT` ([query] max_filter_depth). */
  readonly maxDepth?: number;
}

export const DEFAULT_FILTER_LIMITS = { maxBytes: 16_384, maxDepth: 64 } as const;

/** Parses `text` against `catalog`; throws FilterError with the offending position. */
export function parseFilter(text: string, catalog: ColumnCatalog, limits: FilterLimits = {}): Expr {
  const maxBytes = limits.maxBytes ?? DEFAULT_FILTER_LIMITS.maxBytes;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    throw new FilterError(`filter: ${bytes} bytes is longer than the limit of ${maxBytes} ([query] max_filter_bytes)`, 0);
  }
  return new Parser(text, lex(text), catalog, limits.maxDepth ?? DEFAULT_FILTER_LIMITS.maxDepth).parse();
}

/** Chains up to this many terms stay left-deep, as written (`(a OR b) OR c`). */
const LEFT_DEEP_TERMS = 16;

/**
 * `a OR b OR c …`: a short chain is left-associative, a long one a balanced tree. AND and OR
 * are associative (in three-valued logic too), and a balanced tree keeps a 66k-term chain 17
 * levels deep, so evaluation, pruning and SQL rendering never recurse past the stack.
 */
function balanced(kind: 'and' | 'or', terms: Expr[], lo = 0, hi = terms.length): Expr {
  if (hi - lo === 1) return terms[lo]!;
  if (hi - lo <= LEFT_DEEP_TERMS) {
    let e = terms[lo]!;
    for (let i = lo + 1; i < hi; i++) e = { kind, left: e, right: terms[i]! };
    return e;
  }
  const mid = (lo + hi) >>> 1;
  return { kind, left: balanced(kind, terms, lo, mid), right: balanced(kind, terms, mid, hi) };
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
    private readonly catalog: ColumnCatalog,
    private readonly maxDepth: number,
  ) {}

  /** One more level of `(` or `NOT`; refused beyond the limit, before the stack is at risk. */
  private enter(t: Token): void {
    if (++this.depth > this.maxDepth) {
      throw FilterError.at(t.pos, `nesting deeper than ${this.maxDepth} levels of ( and NOT ([query] max_filter_depth)`);
    }
  }

  parse(): Expr {
    const e = this.or();
    const t = this.peek();
    if (t.kind !== 'eof') throw this.expected('AND, OR or end of input', t);
    return e;
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private isKeyword(t: Token, kw: string): boolean {
    return t.kind === 'keyword' && t.value === kw;
  }

  private isCmpOp(t: Token): boolean {
    return t.kind === 'op' && CMP_OPS.has(t.value);
  }

  private isOp(t: Token, op: string): boolean {
    return t.kind === 'op' && t.value === op;
  }

  /** `expected <what> after <previous token> but found <t>`, positioned at `t`. */
  private expected(what: string, t: Token): FilterError {
    const prev = this.tokens[this.tokens.indexOf(t) - 1];
    const after = prev === undefined ? '' : ` after ${describeToken(prev, this.text)}`;
    return FilterError.at(t.pos, `expected ${what}${after} but found ${describeToken(t, this.text)}`);
  }

  private or(): Expr {
    const terms = [this.and()];
    while (this.isKeyword(this.peek(), 'OR')) {
      this.next();
      terms.push(this.and());
    }
    return balanced('or', terms);
  }

  private and(): Expr {
    const terms = [this.not()];
    while (this.isKeyword(this.peek(), 'AND')) {
      this.next();
      terms.push(this.not());
    }
    return balanced('and', terms);
  }

  private not(): Expr {
    const t = this.peek();
    if (!this.isKeyword(t, 'NOT')) return this.predicate();
    this.next();
    this.enter(t);
    const e: Expr = { kind: 'not', expr: this.not() };
    this.depth--;
    return e;
  }

  private predicate(): Expr {
    const t = this.peek();
    if (this.isOp(t, '(')) {
      this.next();
      this.enter(t);
      const inner = this.or();
      this.depth--;
      const close = this.peek();
      if (!this.isOp(close, ')')) throw this.expected(`')' to close the '(' at position ${t.pos}`, close);
      this.next();
      return inner;
    }
    if (t.kind === 'ident' && !this.isTimestampLiteral(t, this.peek(1))) return this.afterColumn(this.column());
    if ((this.isKeyword(t, 'TRUE') || this.isKeyword(t, 'FALSE')) && !this.isCmpOp(this.peek(1))) {
      this.next();
      return { kind: 'const', value: t.value === 'TRUE' };
    }
    // An ident here can only be `TIMESTAMP '…'`.
    const startsLiteral = ['string', 'number', 'ident'].includes(t.kind) || this.isOp(t, '-') || ['TRUE', 'FALSE', 'NULL'].includes(t.value);
    if (!startsLiteral) throw this.expected('a condition', t);
    // A literal first: `5 < duration_ns` reads as `duration_ns > 5`.
    const raw = this.literal();
    const opTok = this.next();
    const op = CMP_OPS.get(opTok.value);
    if (opTok.kind !== 'op' || op === undefined) throw this.expected('a comparison operator', opTok);
    const col = this.column();
    return { kind: 'cmp', op: FLIPPED[op], column: col.ref, value: this.coerce(col, raw) };
  }

  /** `TIMESTAMP '…'` (any case) is a literal; `timestamp` alone is a column name. */
  private isTimestampLiteral(t: Token, following: Token): boolean {
    return t.kind === 'ident' && t.quoted !== true && t.value.toUpperCase() === 'TIMESTAMP' && following.kind === 'string';
  }

  private column(): Col {
    const t = this.next();
    if (t.kind !== 'ident') throw this.expected('a column', t);
    const type = this.catalog.get(t.value);
    if (type === undefined) throw unknownColumn(t.value, t.pos, this.catalog);
    const bracket = this.peek();
    if (!this.isOp(bracket, '[')) return { ref: { name: t.value, type }, pos: t.pos, display: `"${t.value}"` };
    if (type !== 'map') {
      throw FilterError.at(bracket.pos, `column "${t.value}" is ${type}, not a map: only map columns take ['key']`);
    }
    this.next();
    const key = this.next();
    if (key.kind !== 'string') throw this.expected("a quoted key such as 'http.request.method'", key);
    const close = this.next();
    if (!this.isOp(close, ']')) throw this.expected("']'", close);
    return { ref: { name: t.value, key: key.value, type: 'string' }, pos: t.pos, display: this.text.slice(t.pos, close.end) };
  }

  private afterColumn(col: Col): Expr {
    const t = this.peek();
    if (this.isKeyword(t, 'IS')) {
      this.next();
      const not = this.isKeyword(this.peek(), 'NOT');
      if (not) this.next();
      const nullTok = this.next();
      if (!this.isKeyword(nullTok, 'NULL')) throw this.expected('NULL', nullTok);
      return { kind: 'isnull', not, column: col.ref };
    }
    const ends = t.kind === 'eof' || this.isKeyword(t, 'AND') || this.isKeyword(t, 'OR') || this.isOp(t, ')');
    if (ends && col.ref.type === 'bool') return { kind: 'cmp', op: '=', column: col.ref, value: true };
    if (col.ref.type === 'map') {
      throw FilterError.at(col.pos, `map column ${col.display} needs a key, e.g. ${col.ref.name}['key'] (only IS NULL applies to the whole map)`);
    }
    const op = CMP_OPS.get(t.value);
    if (t.kind === 'op' && op !== undefined) {
      this.next();
      return { kind: 'cmp', op, column: col.ref, value: this.coerce(col, this.literal()) };
    }
    const not = this.isKeyword(t, 'NOT');
    const kw = not ? this.peek(1) : t;
    if (this.isKeyword(kw, 'IN')) return this.inList(col, not);
    if (this.isKeyword(kw, 'LIKE')) return this.like(col, not);
    if (not) throw this.expected('IN or LIKE', kw);
    throw this.expected('an operator (=, !=, <>, <, <=, >, >=, IN, NOT IN, LIKE, NOT LIKE, IS NULL, IS NOT NULL)', t);
  }

  private inList(col: Col, not: boolean): Expr {
    if (not) this.next();
    this.next();
    const open = this.next();
    if (!this.isOp(open, '(')) throw this.expected("'(' to start the IN list", open);
    if (this.isOp(this.peek(), ')')) throw FilterError.at(this.peek().pos, 'IN needs at least one value');
    const values = [this.coerce(col, this.literal())];
    for (;;) {
      const t = this.next();
      if (this.isOp(t, ')')) return { kind: 'in', not, column: col.ref, values };
      if (!this.isOp(t, ',')) throw this.expected("',' or ')' in the IN list", t);
      values.push(this.coerce(col, this.literal()));
    }
  }

  private like(col: Col, not: boolean): Expr {
    if (not) this.next();
    const likeTok = this.next();
    if (col.ref.type !== 'string') {
      throw FilterError.at(likeTok.pos, `LIKE needs a string column, but ${col.display} is ${col.ref.type}`);
    }
    const pattern = this.next();
    if (pattern.kind !== 'string') throw this.expected('a quoted pattern', pattern);
    return { kind: 'like', not, column: col.ref, pattern: pattern.value };
  }

  /** Reads one literal, untyped: its meaning depends on the column it meets. */
  private literal(): RawLiteral {
    const t = this.next();
    if (t.kind === 'string') return { kind: 'string', value: t.value, pos: t.pos, text: this.text.slice(t.pos, t.end) };
    if (t.kind === 'number') return { kind: 'number', value: t.value, pos: t.pos, text: t.value };
    if (this.isOp(t, '-')) {
      const n = this.next();
      if (n.kind !== 'number') throw this.expected('a number', n);
      return { kind: 'number', value: `-${n.value}`, pos: t.pos, text: this.text.slice(t.pos, n.end) };
    }
    if (this.isKeyword(t, 'TRUE') || this.isKeyword(t, 'FALSE')) return { kind: 'bool', value: t.value === 'TRUE', pos: t.pos, text: t.value };
    if (this.isKeyword(t, 'NULL')) return { kind: 'null', pos: t.pos, text: 'NULL' };
    if (this.isTimestampLiteral(t, this.peek())) {
      const s = this.next();
      return { kind: 'timestamp', value: s.value, pos: t.pos, text: this.text.slice(t.pos, s.end) };
    }
    throw this.expected('a value', t);
  }

  private coerce(col: Col, raw: RawLiteral): ReturnType<typeof coerceLiteral> {
    return coerceLiteral(col.ref, col.display, raw);
  }
}
