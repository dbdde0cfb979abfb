/**
 * The TraceQL subset the Tempo API accepts, as plain data: spanset filters `{ … }` whose
 * conditions combine with `&&`, `||` and parentheses, joined by the spanset operators `&&` and
 * `||`. Everything else TraceQL has (pipelines, structural operators, aggregates) is refused
 * with a TraceQLError that names it — never a silent empty result.
 */
import { S3ParquetError } from '../../errors.js';

export const INTRINSICS = ['name', 'status', 'kind', 'duration', 'statusMessage', 'rootName', 'rootServiceName', 'traceDuration'] as const;
export type Intrinsic = (typeof INTRINSICS)[number];

/** Intrinsics that describe the whole trace, so a candidate span's trace must be read to judge them. */
export const TRACE_INTRINSICS: ReadonlySet<Intrinsic> = new Set(['rootName', 'rootServiceName', 'traceDuration']);

export const STATUS_VALUES = ['error', 'ok', 'unset'] as const;
export const KIND_VALUES = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;

export type Operand =
  | { readonly kind: 'intrinsic'; readonly name: Intrinsic }
  /** `span.x`, `resource.x` or unscoped `.x` (span first, then resource). */
  | { readonly kind: 'attr'; readonly scope: 'span' | 'resource' | 'any'; readonly key: string };

export type TqlLiteral =
  | { readonly type: 'string'; readonly value: string }
  | { readonly type: 'number'; readonly value: number; readonly integer: boolean }
  | { readonly type: 'bool'; readonly value: boolean }
  /** Nanoseconds. */
  | { readonly type: 'duration'; readonly value: bigint }
  | { readonly type: 'status'; readonly value: (typeof STATUS_VALUES)[number] }
  | { readonly type: 'kind'; readonly value: (typeof KIND_VALUES)[number] };

export type TqlOp = '=' | '!=' | '>' | '>=' | '<' | '<=' | '=~' | '!~';

export type Condition =
  | { readonly kind: 'cmp'; readonly left: Operand; readonly op: TqlOp; readonly value: TqlLiteral; readonly regex?: RegExp }
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition }
  | { readonly kind: 'all' };

export type SpansetExpr =
  | { readonly kind: 'spanset'; readonly condition: Condition }
  | { readonly kind: 'and' | 'or'; readonly left: SpansetExpr; readonly right: SpansetExpr };

/** A query that is not TraceQL or not in the subset: always a 400 naming the construct. */
export class TraceQLError extends S3ParquetError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', `TraceQL: ${message}`);
    this.name = 'TraceQLError';
  }
}

/** Every spanset filter of the expression, left to right. */
export function spansets(e: SpansetExpr): Condition[] {
  return e.kind === 'spanset' ? [e.condition] : [...spansets(e.left), ...spansets(e.right)];
}

/** Whether a condition reads trace-level intrinsics (rootName, rootServiceName, traceDuration). */
export function needsTrace(c: Condition): boolean {
  if (c.kind === 'all') return false;
  if (c.kind === 'cmp') return c.left.kind === 'intrinsic' && TRACE_INTRINSICS.has(c.left.name);
  return needsTrace(c.left) || needsTrace(c.right);
}
