/**
 * TraceQL (the subset Grafana's Tempo search writes): parse, push a superset down to the
 * engine's filter, and evaluate exactly on spans.
 */
export { parseTraceQL } from './parser.js';
export { parseDurationNs } from './lexer.js';
export { pruneFilter } from './prune.js';
export { matchTrace, matchesSpan, type TraceOutline } from './evaluate.js';
export { needsTrace, spansets, TraceQLError } from './types.js';
export type { Condition, Operand, SpansetExpr, TqlLiteral, TqlOp } from './types.js';
