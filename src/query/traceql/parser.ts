/**
 * Recursive-descent parser for the TraceQL subset (see types.ts). Types are checked while
 * parsing, so `{ duration > "x" }` fails naming the intrinsic and what it compares with.
 *
 *   query     := sor EOF
 *   sor       := sand { '||' sand }            spanset operators
 *   sand      := sterm { '&&' sterm }
 *   sterm     := '{' [ cor ] '}' | '(' sor ')'
 *   cor       := cand { '||' cand }            conditions inside one spanset
 *   cand      := cterm { '&&' cterm }
 *   cterm     := '(' cor ')' | operand op literal
 */
import { lex, type Token } from './lexer.js';
import {
  INTRINSICS,
  KIND_VALUES,
  STATUS_VALUES,
  TraceQLError,
  type Condition,
  type Intrinsic,
  type Operand,
  type SpansetExpr,
  type TqlLiteral,
  type TqlOp,
} from './types.js';

const CMP_OPS = new Set<string>(['=', '!=', '>', '>=', '<', '<=', '=~', '!~']);
const STRUCTURAL = new Set(['>>', '<<', '>', '<', '~', '!>>', '!<<', '!>', '!<', '!~', '&>>', '&<<', '&>', '&<', '&~', '|>>', '|<<']);
const SCOPED_INTRINSICS: Readonly<Record<string, Intrinsic>> = {
  'span:name': 'name',
  'span:status': 'status',
  'span:kind': 'kind',
  'span:duration': 'duration',
  'span:statusMessage': 'statusMessage',
  'trace:rootName': 'rootName',
  'trace:rootService': 'rootServiceName',
  'trace:duration': 'traceDuration',
};
const OTHER_SCOPES = ['event.', 'link.', 'instrumentation.', 'parent.', 'event:', 'link:', 'instrumentation:', 'span:', 'trace:'];
const FUNCTIONS = new Set(['count', 'avg', 'min', 'max', 'sum', 'select', 'by', 'coalesce', 'rate', 'quantile_over_time', 'histogram_over_time', 'count_over_time', 'compare']);

/** Parses a TraceQL query; an empty query (or `{}`) matches every span. */
export function parseTraceQL(text: string): SpansetExpr {
  if (text.trim() === '') return { kind: 'spanset', condition: { kind: 'all' } };
  return new Parser(lex(text)).parse();
}

function describe(t: Token): string {
  return t.kind === 'eof' ? 'end of query' : t.kind === 'string' ? `string ${JSON.stringify(t.value)}` : `${JSON.stringify(t.value)}`;
}

class Parser {
  private i = 0;

  constructor(private readonly tokens: readonly Token[]) {}

  parse(): SpansetExpr {
    const e = this.sor();
    const t = this.peek();
    if (t.kind !== 'eof') {
      if (t.kind === 'op' && t.value === '|') throw new TraceQLError(`pipelines ("|" at position ${t.pos}: aggregates, select, by) are not supported`);
      if (t.kind === 'op' && STRUCTURAL.has(t.value)) throw new TraceQLError(`the structural spanset operator ${JSON.stringify(t.value)} at position ${t.pos} is not supported; use && or || between spansets`);
      throw new TraceQLError(`expected &&, || or end of query at position ${t.pos}, found ${describe(t)}`);
    }
    return e;
  }

  private peek(): Token {
    return this.tokens[Math.min(this.i, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private isOp(v: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.value === v;
  }

  private isPunct(v: string): boolean {
    const t = this.peek();
    return t.kind === 'punct' && t.value === v;
  }

  private expectPunct(v: string): void {
    const t = this.next();
    if (t.kind !== 'punct' || t.value !== v) throw new TraceQLError(`expected ${JSON.stringify(v)} at position ${t.pos}, found ${describe(t)}`);
  }

  private sor(): SpansetExpr {
    let e = this.sand();
    while (this.isOp('||')) {
      this.next();
      e = { kind: 'or', left: e, right: this.sand() };
    }
    return e;
  }

  private sand(): SpansetExpr {
    let e = this.sterm();
    while (this.isOp('&&')) {
      this.next();
      e = { kind: 'and', left: e, right: this.sterm() };
    }
    return e;
  }

  private sterm(): SpansetExpr {
    const t = this.peek();
    if (this.isPunct('(')) {
      this.next();
      const e = this.sor();
      this.expectPunct(')');
      return e;
    }
    if (this.isPunct('{')) {
      this.next();
      if (this.isPunct('}')) {
        this.next();
        return { kind: 'spanset', condition: { kind: 'all' } };
      }
      const condition = this.cor();
      this.expectPunct('}');
      return { kind: 'spanset', condition };
    }
    if (t.kind === 'ident' && FUNCTIONS.has(t.value)) throw new TraceQLError(`the function ${t.value}() at position ${t.pos} is not supported`);
    throw new TraceQLError(`expected a spanset "{ … }" at position ${t.pos}, found ${describe(t)}`);
  }

  private cor(): Condition {
    let c = this.cand();
    while (this.isOp('||')) {
      this.next();
      c = { kind: 'or', left: c, right: this.cand() };
    }
    return c;
  }

  private cand(): Condition {
    let c = this.cterm();
    while (this.isOp('&&')) {
      this.next();
      c = { kind: 'and', left: c, right: this.cterm() };
    }
    return c;
  }

  private cterm(): Condition {
    if (this.isPunct('(')) {
      this.next();
      const c = this.cor();
      this.expectPunct(')');
      return c;
    }
    const at = this.peek();
    const left = this.operand();
    const opTok = this.next();
    if (opTok.kind !== 'op' || !CMP_OPS.has(opTok.value)) {
      if (opTok.kind === 'op' && ['+', '-', '*', '/', '%', '^'].includes(opTok.value)) throw new TraceQLError(`arithmetic (${JSON.stringify(opTok.value)} at position ${opTok.pos}) is not supported`);
      throw new TraceQLError(`expected a comparison (= != > >= < <= =~ !~) after ${JSON.stringify(at.value)} at position ${opTok.pos}, found ${describe(opTok)}${opTok.kind === 'punct' && opTok.value === '}' ? ' (existence checks such as { .x } are not supported)' : ''}`);
    }
    const op = opTok.value as TqlOp;
    const value = this.literal();
    return check(left, at.value, op, value, opTok.pos);
  }

  private operand(): Operand {
    const t = this.next();
    if (t.kind !== 'ident') throw new TraceQLError(`expected an intrinsic or an attribute at position ${t.pos}, found ${describe(t)}`);
    const v = t.value;
    if ((INTRINSICS as readonly string[]).includes(v)) return { kind: 'intrinsic', name: v as Intrinsic };
    const scoped = SCOPED_INTRINSICS[v];
    if (scoped) return { kind: 'intrinsic', name: scoped };
    if (v.startsWith('span.') && v.length > 5) return { kind: 'attr', scope: 'span', key: v.slice(5) };
    if (v.startsWith('resource.') && v.length > 9) return { kind: 'attr', scope: 'resource', key: v.slice(9) };
    if (v.startsWith('.') && v.length > 1) return { kind: 'attr', scope: 'any', key: v.slice(1) };
    const other = OTHER_SCOPES.find((s) => v.startsWith(s));
    if (other) throw new TraceQLError(`${JSON.stringify(v)} at position ${t.pos}: the ${other.slice(0, -1)} ${other.endsWith(':') ? 'intrinsic' : 'scope'} is not supported`);
    if (FUNCTIONS.has(v)) throw new TraceQLError(`the function ${v}() at position ${t.pos} is not supported`);
    throw new TraceQLError(`unknown identifier ${JSON.stringify(v)} at position ${t.pos}; expected an intrinsic (${INTRINSICS.join(', ')}) or span.x, resource.x, .x`);
  }

  private literal(): TqlLiteral {
    let t = this.next();
    let negative = false;
    if (t.kind === 'op' && t.value === '-') {
      negative = true;
      t = this.next();
      if (t.kind !== 'number' && t.kind !== 'duration') throw new TraceQLError(`expected a number after "-" at position ${t.pos}`);
    }
    switch (t.kind) {
      case 'string':
        return { type: 'string', value: t.value };
      case 'number': {
        const n = Number(t.value) * (negative ? -1 : 1);
        return { type: 'number', value: n, integer: /^\d+$/.test(t.value) };
      }
      case 'duration':
        return { type: 'duration', value: BigInt(t.value) * (negative ? -1n : 1n) };
      case 'ident': {
        if (t.value === 'true' || t.value === 'false') return { type: 'bool', value: t.value === 'true' };
        if ((STATUS_VALUES as readonly string[]).includes(t.value)) return { type: 'status', value: t.value as (typeof STATUS_VALUES)[number] };
        if ((KIND_VALUES as readonly string[]).includes(t.value)) return { type: 'kind', value: t.value as (typeof KIND_VALUES)[number] };
        if (t.value === 'nil') throw new TraceQLError(`comparisons with nil (position ${t.pos}) are not supported`);
        throw new TraceQLError(`expected a value at position ${t.pos}, found ${JSON.stringify(t.value)} (strings are double-quoted)`);
      }
      default:
        throw new TraceQLError(`expected a value at position ${t.pos}, found ${describe(t)}`);
    }
  }
}

const ORDERING = new Set<TqlOp>(['>', '>=', '<', '<=']);

/** Type rules: what each intrinsic compares with, and which operators fit which values. */
function check(left: Operand, written: string, op: TqlOp, value: TqlLiteral, pos: number): Condition {
  const fail = (why: string): never => {
    throw new TraceQLError(`${written} ${op} … at position ${pos}: ${why}`);
  };
  const regexOp = op === '=~' || op === '!~';
  if (regexOp && value.type !== 'string') fail('=~ and !~ need a string (a regular expression)');
  if (left.kind === 'intrinsic') {
    switch (left.name) {
      case 'status':
        if (value.type !== 'status') fail(`status compares with error, ok or unset`);
        if (op !== '=' && op !== '!=') fail('status takes = or !=');
        break;
      case 'kind':
        if (value.type !== 'kind') fail(`kind compares with ${KIND_VALUES.join(', ')}`);
        if (op !== '=' && op !== '!=') fail('kind takes = or !=');
        break;
      case 'duration':
      case 'traceDuration':
        if (value.type !== 'duration') fail(`${left.name} compares with a duration such as 100ms`);
        if (regexOp) fail(`${left.name} cannot take a regular expression`);
        break;
      default:
        if (value.type !== 'string') fail(`${left.name} compares with a string`);
    }
  } else {
    if (value.type === 'status' || value.type === 'kind') fail(`attributes compare with strings, numbers or booleans, not the keyword ${value.value}`);
    if (value.type === 'bool' && ORDERING.has(op)) fail('booleans take = or !=');
  }
  if (!regexOp) return { kind: 'cmp', left, op, value };
  try {
    // TraceQL regular expressions are fully anchored.
    return { kind: 'cmp', left, op, value, regex: new RegExp(`^(?:${(value as { value: string }).value})$`, 'su') };
  } catch (err) {
    return fail(`invalid regular expression: ${(err as Error).message}`);
  }
}
