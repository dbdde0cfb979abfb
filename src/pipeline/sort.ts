/**
 * Reorders buffered record batches by the dataset's sort columns (traces: `trace_id`; logs and
 * metrics: service / series, then time) before a file is written, so row-group and page
 * statistics on those columns are narrow (a trace lookup reads about one page per file) and
 * runs of equal or close values compress (see the storage hints in `src/schema/`).
 *
 * apache-arrow has no `take` kernel; this one gathers rows from several chunks into new buffers
 * for the types our schemas use (fixed-width numbers and timestamps, booleans, UTF-8, lists,
 * maps and structs), nulls included.
 *
 * Every array it makes comes from `sortArray` (sort-arena.ts): memory reused between flushes
 * when the caller sorts inside `withSortArena`, new arrays otherwise.
 *
 * Indexing follows Arrow's slicing: a sliced Data keeps `offset` for its validity bitmap and
 * boolean bits, while its offsets and fixed-width value buffers are already sub-arrays, and a
 * struct's children are sliced along with it.
 */
import { DataType, RecordBatch, Struct, Type, type Data } from 'apache-arrow';
import { fixedData, listData, structData, utf8Data } from '../schema/arrow-data.js';
import { sortArray, type ArrayType } from './sort-arena.js';

/**
 * The output rows as runs of consecutive source rows: run i is rows [starts[i], starts[i] +
 * lens[i]) of chunk chunks[i]. A map or list row's entries are one run of its child, so the
 * child columns (most of a span's bytes: its attribute maps) are gathered by ranges, with one
 * copy per row, not one per entry.
 */
interface Runs {
  readonly chunks: Int32Array;
  readonly starts: Int32Array;
  readonly lens: Int32Array;
  /** Runs in use (the arrays may be longer). */
  readonly count: number;
  /** Output rows: the sum of lens. */
  readonly length: number;
}

function isValid(d: Data, row: number): boolean {
  const bitmap = d.nullBitmap;
  if (!bitmap || bitmap.length === 0 || d.nullCount === 0) return true;
  const i = d.offset + row;
  return (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
}

/*
 * The gather: one function per column kind (UTF-8, boolean, list or map, struct, fixed width),
 * each reading the buffers of one kind of `Data`. A single function over every kind saw Data
 * and typed arrays of every shape, and V8 deoptimized and recompiled it flush after flush
 * ("wrong map", bench/NOTES.md); split, each call site meets one shape. The fixed-width copy
 * goes through 32-bit word views (or bytes for 1- and 2-byte types), so it sees one array type.
 */

interface Validity {
  readonly bitmap: Uint8Array | undefined;
  readonly nullCount: number;
}
const ALL_VALID: Validity = { bitmap: undefined, nullCount: 0 };

/** The gathered rows' validity bitmap (undefined when no part has a null). */
function gatherValidity(parts: readonly Data[], g: Runs): Validity {
  let any = false;
  for (let c = 0; c < parts.length; c++) if (parts[c]!.nullCount > 0) any = true;
  if (!any) return ALL_VALID;
  // Per part, its bitmap and bit offset (null: every row valid), read once, not once per row.
  const bitmaps: (Uint8Array | null)[] = [];
  const shifts: number[] = [];
  for (let c = 0; c < parts.length; c++) {
    const p = parts[c]!;
    const b = p.nullBitmap;
    bitmaps.push(p.nullCount > 0 && b !== undefined && b.length > 0 ? b : null);
    shifts.push(p.offset);
  }
  const bitmap = sortArray(Uint8Array, (g.length + 7) >> 3);
  let nulls = 0;
  for (let r = 0, k = 0; r < g.count; r++) {
    const c = g.chunks[r]!;
    const bits = bitmaps[c]!;
    const len = g.lens[r]!;
    if (bits === null) {
      for (const end = k + len; k < end; k++) bitmap[k >> 3]! |= 1 << (k & 7);
      continue;
    }
    for (let i = shifts[c]! + g.starts[r]!, end = i + len; i < end; i++, k++) {
      if ((bits[i >> 3]! & (1 << (i & 7))) !== 0) bitmap[k >> 3]! |= 1 << (k & 7);
      else nulls++;
    }
  }
  return { bitmap, nullCount: nulls };
}

/**
 * New offsets for the gathered rows of offset-carrying parts (strings, lists, maps): each run's
 * offsets copied, shifted to where the run lands.
 */
function gatherOffsets(offs: readonly Int32Array[], g: Runs): Int32Array {
  const offsets = sortArray(Int32Array, g.length + 1);
  let at = 0;
  let k = 0;
  for (let r = 0; r < g.count; r++) {
    const o = offs[g.chunks[r]!]!;
    const start = g.starts[r]!;
    const end = start + g.lens[r]!;
    const shift = at - o[start]!;
    for (let j = start + 1; j <= end; j++) offsets[++k] = o[j]! + shift;
    at = offsets[k]!;
  }
  return offsets;
}

/** For list-like parts: the child rows the gathered parent rows cover, one run per parent run. */
function childRuns(offs: readonly Int32Array[], g: Runs): Runs {
  const chunks = sortArray(Int32Array, g.count);
  const starts = sortArray(Int32Array, g.count);
  const lens = sortArray(Int32Array, g.count);
  let count = 0;
  let length = 0;
  for (let r = 0; r < g.count; r++) {
    const c = g.chunks[r]!;
    const o = offs[c]!;
    const from = o[g.starts[r]!]!; // child rows are addressed from the child's own start
    const len = o[g.starts[r]! + g.lens[r]!]! - from;
    if (len === 0) continue;
    length += len;
    if (count > 0 && chunks[count - 1] === c && starts[count - 1]! + lens[count - 1]! === from) {
      lens[count - 1]! += len;
      continue;
    }
    chunks[count] = c;
    starts[count] = from;
    lens[count++] = len;
  }
  return { chunks, starts, lens, count, length };
}

/** The gathered rows of one column, whatever its kind. */
function gather(parts: readonly Data[], g: Runs): Data {
  switch ((parts[0]!.type as DataType).typeId) {
    case Type.Utf8:
      return gatherUtf8(parts, g);
    case Type.Bool:
      return gatherBool(parts, g);
    case Type.List:
    case Type.Map:
      return gatherList(parts, g);
    case Type.Struct:
      return gatherStruct(parts, g);
    default:
      // Int, Float, Timestamp: one typed-array element per row.
      return gatherFixedData(parts, g);
  }
}

function gatherUtf8(parts: readonly Data[], g: Runs): Data {
  const offs: Int32Array[] = [];
  const vals: Uint8Array[] = [];
  for (let c = 0; c < parts.length; c++) {
    offs.push(parts[c]!.valueOffsets as Int32Array);
    vals.push(parts[c]!.values as Uint8Array);
  }
  const v = gatherValidity(parts, g);
  const offsets = gatherOffsets(offs, g);
  const bytes = sortArray(Uint8Array, offsets[g.length]!);
  // Short copies byte by byte: a `subarray` (a new view object) costs more than a short copy.
  for (let r = 0, k = 0; r < g.count; r++) {
    const c = g.chunks[r]!;
    const o = offs[c]!;
    const src = vals[c]!;
    let from = o[g.starts[r]!]!;
    const end = o[g.starts[r]! + g.lens[r]!]!;
    let to = offsets[k]!;
    if (end - from > SHORT_BYTES) bytes.set(src.subarray(from, end), to);
    else while (from < end) bytes[to++] = src[from++]!;
    k += g.lens[r]!;
  }
  return utf8Data(parts[0]!.type as DataType, g.length, v.nullCount, v.bitmap, offsets, bytes);
}

function gatherBool(parts: readonly Data[], g: Runs): Data {
  const v = gatherValidity(parts, g);
  const bits = sortArray(Uint8Array, (g.length + 7) >> 3);
  for (let r = 0, k = 0; r < g.count; r++) {
    const p = parts[g.chunks[r]!]!;
    const src = p.values as Uint8Array;
    for (let row = p.offset + g.starts[r]!, end = row + g.lens[r]!; row < end; row++, k++) {
      if ((src[row >> 3]! & (1 << (row & 7))) !== 0) bits[k >> 3]! |= 1 << (k & 7);
    }
  }
  return fixedData(parts[0]!.type as DataType, g.length, v.nullCount, v.bitmap, bits);
}

function gatherList(parts: readonly Data[], g: Runs): Data {
  const offs: Int32Array[] = [];
  const children: Data[] = [];
  for (let c = 0; c < parts.length; c++) {
    offs.push(parts[c]!.valueOffsets as Int32Array);
    children.push(parts[c]!.children[0]!);
  }
  const v = gatherValidity(parts, g);
  const offsets = gatherOffsets(offs, g);
  const child = gather(children, childRuns(offs, g));
  return listData(parts[0]!.type as DataType, g.length, v.nullCount, v.bitmap, offsets, child);
}

function gatherStruct(parts: readonly Data[], g: Runs): Data {
  const type = parts[0]!.type as Struct;
  const v = gatherValidity(parts, g);
  // Arrow slices a struct's children along with it, so row numbers carry over unchanged.
  const children: Data[] = [];
  for (let ci = 0; ci < type.children.length; ci++) {
    const column: Data[] = [];
    for (let c = 0; c < parts.length; c++) column.push(parts[c]!.children[ci]!);
    children.push(gather(column, g));
  }
  return structData(type, g.length, v.nullCount, v.bitmap, children);
}

type FixedArray = Int32Array | Uint32Array | Float64Array | BigInt64Array | Int8Array | Int16Array | Uint8Array | Uint16Array | Float32Array | BigUint64Array;

/**
 * One element per row, copied as 32-bit words (a 64-bit value is two; no BigInt is made) or, for
 * 1- and 2-byte elements, as bytes: whatever the column's array type, the copy loop sees one.
 */
function gatherFixedData(parts: readonly Data[], g: Runs): Data {
  const first = parts[0]!.values as FixedArray;
  const size = first.BYTES_PER_ELEMENT;
  const out = sortArray(first.constructor as ArrayType<FixedArray>, g.length);
  if (size >= 4) {
    const src: Int32Array[] = [];
    for (let c = 0; c < parts.length; c++) {
      const a = parts[c]!.values as FixedArray;
      src.push(new Int32Array(a.buffer, a.byteOffset, (a.length * size) >> 2));
    }
    copyRuns32(src, g, size >> 2, new Int32Array(out.buffer, out.byteOffset, (g.length * size) >> 2));
  } else {
    const src: Uint8Array[] = [];
    for (let c = 0; c < parts.length; c++) {
      const a = parts[c]!.values as FixedArray;
      src.push(new Uint8Array(a.buffer, a.byteOffset, a.length * size));
    }
    copyRuns8(src, g, size, new Uint8Array(out.buffer, out.byteOffset, g.length * size));
  }
  const v = gatherValidity(parts, g);
  return fixedData(parts[0]!.type as DataType, g.length, v.nullCount, v.bitmap, out);
}

/**
 * Runs of `w` words per row. A short run is copied element by element, a longer one by one
 * `set`: a `subarray` view is a heap object and costs more than copying a few elements.
 */
function copyRuns32(src: readonly Int32Array[], g: Runs, w: number, dst: Int32Array): void {
  for (let r = 0, k = 0; r < g.count; r++) {
    const v = src[g.chunks[r]!]!;
    const start = g.starts[r]! * w;
    const len = g.lens[r]! * w;
    if (len <= SHORT_RUN) for (let j = 0; j < len; j++) dst[k + j] = v[start + j]!;
    else dst.set(v.subarray(start, start + len), k);
    k += len;
  }
}

/** As copyRuns32, for `w` bytes per row. */
function copyRuns8(src: readonly Uint8Array[], g: Runs, w: number, dst: Uint8Array): void {
  for (let r = 0, k = 0; r < g.count; r++) {
    const v = src[g.chunks[r]!]!;
    const start = g.starts[r]! * w;
    const len = g.lens[r]! * w;
    if (len <= SHORT_RUN) for (let j = 0; j < len; j++) dst[k + j] = v[start + j]!;
    else dst.set(v.subarray(start, start + len), k);
    k += len;
  }
}

/** Elements (or bytes) up to which a loop copy beats a `subarray` + `set` (measured on the bench load). */
const SHORT_RUN = 32;
const SHORT_BYTES = 64;

type SortKey = string | bigint | number | null;

/**
 * The sort key of every row of one column: strings as latin1 text of their UTF-8 bytes (so
 * JavaScript's `<` is Parquet's byte order, the order of its min/max statistics), integers and
 * timestamps as they are, and a `Map<Utf8, Utf8>` as its keys' bytes then its values' bytes (a
 * series identity for metrics; ties between different maps only cost compression, not order).
 */
function columnKeys(d: Data, out: SortKey[]): void {
  const type = d.type as DataType;
  const n = d.length;
  if (DataType.isUtf8(type)) {
    const o = d.valueOffsets as Int32Array;
    const v = d.values as Uint8Array;
    const buf = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    for (let r = 0; r < n; r++) out.push(isValid(d, r) ? buf.toString('latin1', o[r]!, o[r + 1]!) : null);
    return;
  }
  if (DataType.isMap(type)) {
    const o = d.valueOffsets as Int32Array;
    const [keys, values] = d.children[0]!.children as [Data, Data];
    const ko = keys.valueOffsets as Int32Array;
    const vo = values.valueOffsets as Int32Array;
    const kb = Buffer.from((keys.values as Uint8Array).buffer, (keys.values as Uint8Array).byteOffset, (keys.values as Uint8Array).byteLength);
    const vb = Buffer.from((values.values as Uint8Array).buffer, (values.values as Uint8Array).byteOffset, (values.values as Uint8Array).byteLength);
    for (let r = 0; r < n; r++) {
      if (!isValid(d, r)) out.push(null);
      else out.push(kb.toString('latin1', ko[o[r]!]!, ko[o[r + 1]!]!) + '\u0000' + vb.toString('latin1', vo[o[r]!]!, vo[o[r + 1]!]!));
    }
    return;
  }
  if (DataType.isInt(type) || DataType.isTimestamp(type)) {
    const v = d.values as unknown as ArrayLike<bigint | number>;
    for (let r = 0; r < n; r++) out.push(isValid(d, r) ? v[r]! : null);
    return;
  }
  throw new Error(`sortBatches: cannot sort by a column of type ${String(type)}`);
}

const PREFIX_BYTES = 6; // 48 bits: exact in a double

/**
 * Per row, its first 6 UTF-8 bytes as a big-endian number (shorter values padded with zeros,
 * which keeps byte order: a tie is settled by the bytes), nulls as Infinity (last). Into `out`
 * (one slot per row), allocated by the caller: see `sortRuns` on allocations before a loop.
 */
function utf8Prefixes(parts: readonly Data[], out: Float64Array): Float64Array {
  let i = 0;
  for (let c = 0; c < parts.length; c++) {
    const d = parts[c]!;
    const o = d.valueOffsets as Int32Array;
    const v = d.values as Uint8Array;
    for (let r = 0; r < d.length; r++, i++) {
      if (!isValid(d, r)) {
        out[i] = Number.POSITIVE_INFINITY;
        continue;
      }
      const start = o[r]!;
      const end = Math.min(o[r + 1]!, start + PREFIX_BYTES);
      let k = 0;
      for (let j = start; j < end; j++) k = k * 256 + v[j]!;
      for (let j = end - start; j < PREFIX_BYTES; j++) k *= 256;
      out[i] = k;
    }
  }
  return out;
}

/** Byte order of two values of a string column (nulls last), as Parquet's statistics see it. */
function utf8Compare(parts: readonly Data[], offs: readonly Int32Array[], vals: readonly Uint8Array[], ca: number, ra: number, cb: number, rb: number): number {
  const na = !isValid(parts[ca]!, ra);
  const nb = !isValid(parts[cb]!, rb);
  if (na || nb) return na === nb ? 0 : na ? 1 : -1;
  const oa = offs[ca]!;
  const ob = offs[cb]!;
  const va = vals[ca]!;
  const vb = vals[cb]!;
  let i = oa[ra]!;
  let j = ob[rb]!;
  const ea = oa[ra + 1]!;
  const eb = ob[rb + 1]!;
  for (; i < ea && j < eb; i++, j++) {
    const x = va[i]!;
    const y = vb[j]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return ea - i === eb - j ? 0 : i === ea ? -1 : 1;
}

/** True when rows a and b (same chunk) of a string column hold the same value (or are both null). */
function utf8Same(d: Data, o: Int32Array, v: Uint8Array, a: number, b: number): boolean {
  const na = !isValid(d, a);
  if (na || !isValid(d, b)) return na && !isValid(d, b);
  let i = o[a]!;
  let j = o[b]!;
  const end = o[a + 1]!;
  if (end - i !== o[b + 1]! - j) return false;
  for (; i < end; i++, j++) if (v[i] !== v[j]) return false;
  return true;
}

/**
 * The state one sort's comparators read. The comparators are module functions over this state,
 * not arrow functions made per call: V8 compiled each flush's new closures again (the JIT
 * census, bench/NOTES.md), while one function stays compiled. A sort is synchronous and each
 * thread has its own module, so one state per module is enough; it is cleared after the sort
 * so no batch outlives its flush through it.
 */
interface SortState {
  /** Global row of each key run's first row. */
  runAt: Int32Array;
  runChunk: Int32Array;
  runRow: Int32Array;
  runLen: Int32Array;
  /** The leading string column's 6-byte prefixes (undefined when it is not a string column). */
  prefix: Float64Array | undefined;
  first: readonly Data[];
  offs: readonly Int32Array[];
  vals: readonly Uint8Array[];
  /** The other key columns' keys, by global row. */
  keys: readonly SortKey[][];
}
const NO_ROWS = new Int32Array(0);
const state: SortState = { runAt: NO_ROWS, runChunk: NO_ROWS, runRow: NO_ROWS, runLen: NO_ROWS, prefix: undefined, first: [], offs: [], vals: [], keys: [] };

/** Rows a and b (global) by the key columns after the first, then arrival order. */
function byRest(a: number, b: number): number {
  const keys = state.keys;
  for (let k = 0; k < keys.length; k++) {
    const col = keys[k]!;
    const x = col[a]!;
    const y = col[b]!;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    return x < y ? -1 : 1;
  }
  return a - b;
}

/** Key runs ra and rb, led by a string column: its prefixes, its bytes on a tie, then the rest. */
function byPrefixedRuns(ra: number, rb: number): number {
  const { runAt, prefix } = state;
  const a = runAt[ra]!;
  const b = runAt[rb]!;
  const d = prefix![a]! - prefix![b]!;
  if (d < 0) return -1;
  if (d > 0) return 1;
  // Equal prefixes (or both null, Infinity - Infinity = NaN): the bytes decide.
  const x = utf8Compare(state.first, state.offs, state.vals, state.runChunk[ra]!, state.runRow[ra]!, state.runChunk[rb]!, state.runRow[rb]!);
  return x !== 0 ? x : byRest(a, b);
}

/** Key runs ra and rb by the key columns. */
function byRuns(ra: number, rb: number): number {
  return byRest(state.runAt[ra]!, state.runAt[rb]!);
}

/** True when global row i (row r of chunk c, column data d) has the keys of row i − 1. */
function sameKeys(d: Data, c: number, r: number, i: number): boolean {
  const { prefix, keys } = state;
  if (prefix) {
    if (prefix[i] !== prefix[i - 1]) return false; // nulls are Infinity: equal to each other only
    if (!utf8Same(d, state.offs[c]!, state.vals[c]!, r, r - 1)) return false;
  }
  for (let k = 0; k < keys.length; k++) if (keys[k]![i] !== keys[k]![i - 1]) return false;
  return true;
}

/**
 * One batch holding every row of `batches`, ordered by the columns `by` (each ascending, nulls
 * last; ties keep arrival order). Key columns may be strings, integers, timestamps or string maps.
 */
export function sortBatches(batches: readonly RecordBatch[], by: string | readonly string[]): RecordBatch {
  const schema = batches[0]!.schema;
  const names = typeof by === 'string' ? [by] : by;
  const columns: number[] = [];
  for (const name of names) {
    let ci = -1;
    for (let f = 0; f < schema.fields.length && ci < 0; f++) if (schema.fields[f]!.name === name) ci = f;
    if (ci < 0) throw new Error(`sortBatches: no column ${JSON.stringify(name)}`);
    columns.push(ci);
  }
  let total = 0;
  for (const b of batches) total += b.numRows;
  try {
    return sortRuns(batches, schema, columns, total);
  } finally {
    state.runAt = state.runChunk = state.runRow = state.runLen = NO_ROWS;
    state.prefix = undefined;
    state.first = state.offs = state.vals = state.keys = [];
  }
}

/*
 * The sort runs once per flush, as a few functions of one long loop each, not as one function:
 * V8 compiled the single `sortRuns` with its loops on-stack (OSR) every flush — 30–100 ms of
 * TurboFan each for logs and metrics — and the code after a loop, with no feedback yet,
 * deoptimized it again (the JIT census, bench/NOTES.md). A function with one loop and little
 * after it keeps its compiled code from flush to flush. The loop functions allocate nothing
 * before their loop (their callers pass the arrays in): a once-per-call function gets its
 * feedback vector only once its loop is hot, so a `new` before the loop had no feedback, and
 * the code compiled for the next call deoptimized there ("insufficient type feedback for
 * construct"), flush after flush.
 */
function sortRuns(batches: readonly RecordBatch[], schema: RecordBatch['schema'], columns: readonly number[], total: number): RecordBatch {
  sortKeys(batches, columns, total);
  const runAt = (state.runAt = sortArray(Int32Array, total));
  const runChunk = (state.runChunk = sortArray(Int32Array, total));
  const runRow = (state.runRow = sortArray(Int32Array, total));
  const runLen = (state.runLen = sortArray(Int32Array, total));
  const runs = keyRuns(state.first, runAt, runChunk, runRow, runLen);
  const order = runOrder(new Array<number>(runs));
  const g = gatherRuns(order, runChunk, runRow, runLen, total, sortArray(Int32Array, runs), sortArray(Int32Array, runs), sortArray(Int32Array, runs));
  return new RecordBatch(schema, structData(new Struct(schema.fields), total, 0, undefined, gatherColumns(batches, schema.fields.length, g)));
}

/** The key columns' parts and keys into `state`. */
function sortKeys(batches: readonly RecordBatch[], columns: readonly number[], total: number): void {
  // A leading string column (traces' trace_id, every dataset's first key) is compared by a
  // number made of its first 6 bytes, and only ties read the bytes: building a JavaScript
  // string per row and comparing strings cost more than half of the sort.
  const first: Data[] = [];
  const offs: Int32Array[] = [];
  const vals: Uint8Array[] = [];
  for (let c = 0; c < batches.length; c++) {
    const d = batches[c]!.data.children[columns[0]!]!;
    first.push(d);
    offs.push(d.valueOffsets as Int32Array);
    vals.push(d.values as Uint8Array);
  }
  const prefixed = DataType.isUtf8(first[0]!.type as DataType);
  const keys: SortKey[][] = [];
  for (let k = prefixed ? 1 : 0; k < columns.length; k++) {
    const out: SortKey[] = [];
    for (let c = 0; c < batches.length; c++) columnKeys(batches[c]!.data.children[columns[k]!]!, out);
    keys.push(out);
  }
  state.prefix = prefixed ? utf8Prefixes(first, sortArray(Float64Array, total)) : undefined;
  state.first = first;
  state.offs = offs;
  state.vals = vals;
  state.keys = keys;
}

/**
 * Neighbours in a chunk with equal keys (a trace's spans, a service's records) stay neighbours
 * in the output, in arrival order: so the sort orders these key runs, not rows — a stable sort
 * of the runs by (keys, first row) is the stable sort of the rows. Run i starts at global row
 * runAt[i], chunk runChunk[i], row runRow[i] of that chunk, and holds runLen[i] rows. Returns
 * the number of runs.
 */
function keyRuns(first: readonly Data[], runAt: Int32Array, runChunk: Int32Array, runRow: Int32Array, runLen: Int32Array): number {
  let runs = 0;
  for (let c = 0, i = 0; c < first.length; c++) {
    const d = first[c]!;
    for (let r = 0, n = d.length; r < n; r++, i++) {
      if (r > 0 && sameKeys(d, c, r, i)) {
        runLen[runs - 1]!++;
        continue;
      }
      runAt[runs] = i;
      runChunk[runs] = c;
      runRow[runs] = r;
      runLen[runs++] = 1;
    }
  }
  return runs;
}

/** The run numbers sorted (into `order`, one slot per run); a run is compared by its first row (global row runAt[run]). */
function runOrder(order: number[]): number[] {
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort(state.prefix ? byPrefixedRuns : byRuns);
  return order;
}

/** Every column's gathered rows. */
function gatherColumns(batches: readonly RecordBatch[], fields: number, g: Runs): Data[] {
  const children: Data[] = [];
  for (let ci = 0; ci < fields; ci++) {
    const column: Data[] = [];
    for (let c = 0; c < batches.length; c++) column.push(batches[c]!.data.children[ci]!);
    children.push(gather(column, g));
  }
  return children;
}

/**
 * The sorted key runs as gather runs: key runs that were neighbours in one chunk before the sort
 * are merged. `chunks`, `starts` and `lens` (one slot per key run) are filled; allocated by the
 * caller, as for the other once-per-flush loops (see `sortRuns`).
 */
function gatherRuns(order: readonly number[], runChunk: Int32Array, runRow: Int32Array, runLen: Int32Array, length: number, chunks: Int32Array, starts: Int32Array, lens: Int32Array): Runs {
  let count = 0;
  for (let i = 0; i < chunks.length; i++) {
    const run = order[i]!;
    const c = runChunk[run]!;
    const row = runRow[run]!;
    if (count > 0 && chunks[count - 1] === c && starts[count - 1]! + lens[count - 1]! === row) {
      lens[count - 1]! += runLen[run]!;
      continue;
    }
    chunks[count] = c;
    starts[count] = row;
    lens[count++] = runLen[run]!;
  }
  return { chunks, starts, lens, count, length };
}
