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
 * Indexing follows Arrow's slicing: a sliced Data keeps `offset` for its validity bitmap and
 * boolean bits, while its offsets and fixed-width value buffers are already sub-arrays, and a
 * struct's children are sliced along with it.
 */
import { DataType, RecordBatch, Struct, makeData, type Data } from 'apache-arrow';

/** Row `rows[i]` of chunk `chunks[i]`, for every output row i. */
interface Gather {
  readonly chunks: Int32Array;
  readonly rows: Int32Array;
}

function isValid(d: Data, row: number): boolean {
  const bitmap = d.nullBitmap;
  if (!bitmap || bitmap.length === 0 || d.nullCount === 0) return true;
  const i = d.offset + row;
  return (bitmap[i >> 3]! & (1 << (i & 7))) !== 0;
}

function gatherValidity(parts: readonly Data[], g: Gather): { bitmap: Uint8Array | undefined; nullCount: number } {
  if (parts.every((p) => p.nullCount === 0)) return { bitmap: undefined, nullCount: 0 };
  const n = g.rows.length;
  const bitmap = new Uint8Array((n + 7) >> 3);
  let nulls = 0;
  for (let i = 0; i < n; i++) {
    if (isValid(parts[g.chunks[i]!]!, g.rows[i]!)) bitmap[i >> 3]! |= 1 << (i & 7);
    else nulls++;
  }
  return { bitmap, nullCount: nulls };
}

/** For list-like parts: the child rows that the gathered parent rows cover, and new offsets. */
function gatherChildren(parts: readonly Data[], g: Gather): { offsets: Int32Array; child: Gather } {
  const n = g.rows.length;
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const p = parts[g.chunks[i]!]!;
    const o = p.valueOffsets as Int32Array;
    const r = g.rows[i]!;
    total += o[r + 1]! - o[r]!;
    offsets[i + 1] = total;
  }
  const chunks = new Int32Array(total);
  const rows = new Int32Array(total);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const c = g.chunks[i]!;
    const p = parts[c]!;
    const o = p.valueOffsets as Int32Array;
    const r = g.rows[i]!;
    for (let j = o[r]!; j < o[r + 1]!; j++) {
      chunks[k] = c;
      rows[k++] = j; // child rows are addressed from the child's own start
    }
  }
  return { offsets, child: { chunks, rows } };
}

function gather(parts: readonly Data[], g: Gather): Data {
  const type = parts[0]!.type as DataType;
  const n = g.rows.length;
  const { bitmap, nullCount } = gatherValidity(parts, g);
  const base = { type, length: n, nullCount, nullBitmap: bitmap };
  if (DataType.isUtf8(type)) {
    // Buffers hoisted out of the Data objects, and short copies done byte by byte: a
    // `subarray` per value (a new view object) cost more than the copy itself.
    const offs = parts.map((p) => p.valueOffsets as Int32Array);
    const vals = parts.map((p) => p.values as Uint8Array);
    const chunks = g.chunks;
    const rows = g.rows;
    const offsets = new Int32Array(n + 1);
    let size = 0;
    for (let i = 0; i < n; i++) {
      const o = offs[chunks[i]!]!;
      const r = rows[i]!;
      size += o[r + 1]! - o[r]!;
      offsets[i + 1] = size;
    }
    const bytes = new Uint8Array(size);
    // Rows that were neighbours before the sort (a trace's spans, a map's entries) still are:
    // each such run is one contiguous copy.
    for (let i = 0; i < n; ) {
      const c = chunks[i]!;
      const first = rows[i]!;
      let j = i + 1;
      while (j < n && chunks[j] === c && rows[j] === first + (j - i)) j++;
      const o = offs[c]!;
      const v = vals[c]!;
      let from = o[first]!;
      const end = o[first + (j - i)]!;
      let to = offsets[i]!;
      if (end - from > 64) bytes.set(v.subarray(from, end), to);
      else while (from < end) bytes[to++] = v[from++]!;
      i = j;
    }
    return makeData({ ...base, type, valueOffsets: offsets, data: bytes } as Parameters<typeof makeData>[0]);
  }
  if (DataType.isBool(type)) {
    const bits = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) {
      const p = parts[g.chunks[i]!]!;
      const r = p.offset + g.rows[i]!;
      if (((p.values as Uint8Array)[r >> 3]! & (1 << (r & 7))) !== 0) bits[i >> 3]! |= 1 << (i & 7);
    }
    return makeData({ ...base, type, data: bits } as Parameters<typeof makeData>[0]);
  }
  if (DataType.isList(type) || DataType.isMap(type)) {
    const { offsets, child } = gatherChildren(parts, g);
    const childData = gather(parts.map((p) => p.children[0]!), child);
    return makeData({ ...base, type, valueOffsets: offsets, child: childData } as Parameters<typeof makeData>[0]);
  }
  if (DataType.isStruct(type)) {
    // Arrow slices a struct's children along with it, so row numbers carry over unchanged.
    const children = type.children.map((_, ci) => gather(parts.map((p) => p.children[ci]!), g));
    return makeData({ ...base, type, children } as Parameters<typeof makeData>[0]);
  }
  // Fixed width: Int, Float, Timestamp (one typed-array element per row).
  return makeData({ ...base, type, data: gatherFixed(parts.map((p) => p.values as FixedArray), g) } as Parameters<typeof makeData>[0]);
}

type FixedArray = Int32Array | Uint32Array | Float64Array | BigInt64Array | Int8Array | Int16Array | Uint8Array | Uint16Array | Float32Array | BigUint64Array;

/** One element per row, buffers hoisted out of the Data objects (a single chunk skips the chunk lookup). */
function gatherFixed<T extends FixedArray>(vals: readonly T[], g: Gather): T {
  const n = g.rows.length;
  const out = new (vals[0]!.constructor as new (n: number) => T)(n);
  const chunks = g.chunks;
  const rows = g.rows;
  if (vals.length === 1) {
    const v = vals[0]!;
    for (let i = 0; i < n; i++) out[i] = v[rows[i]!]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = vals[chunks[i]!]![rows[i]!]!;
  }
  return out;
}

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
 * which keeps byte order: a tie is settled by the bytes), nulls as Infinity (last).
 */
function utf8Prefixes(parts: readonly Data[], total: number): Float64Array {
  const out = new Float64Array(total);
  let i = 0;
  for (const d of parts) {
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

/**
 * One batch holding every row of `batches`, ordered by the columns `by` (each ascending, nulls
 * last; ties keep arrival order). Key columns may be strings, integers, timestamps or string maps.
 */
export function sortBatches(batches: readonly RecordBatch[], by: string | readonly string[]): RecordBatch {
  const schema = batches[0]!.schema;
  const names = typeof by === 'string' ? [by] : by;
  const columns = names.map((name) => {
    const ci = schema.fields.findIndex((f) => f.name === name);
    if (ci < 0) throw new Error(`sortBatches: no column ${JSON.stringify(name)}`);
    return ci;
  });
  let total = 0;
  for (const b of batches) total += b.numRows;
  const chunkOf = new Int32Array(total);
  const rowOf = new Int32Array(total);
  for (let c = 0, i = 0; c < batches.length; c++) {
    for (let r = 0, n = batches[c]!.numRows; r < n; r++, i++) {
      chunkOf[i] = c;
      rowOf[i] = r;
    }
  }
  // A leading string column (traces' trace_id, every dataset's first key) is compared by a
  // number made of its first 6 bytes, and only ties read the bytes: building a JavaScript
  // string per row and comparing strings cost more than half of the sort.
  const first = batches.map((b) => b.data.children[columns[0]!]!);
  const prefixed = DataType.isUtf8(first[0]!.type as DataType);
  const prefix = prefixed ? utf8Prefixes(first, total) : undefined;
  const rest = prefixed ? columns.slice(1) : columns;
  const keys: SortKey[][] = rest.map(() => []);
  batches.forEach((b) => rest.forEach((ci, k) => columnKeys(b.data.children[ci]!, keys[k]!)));
  const width = keys.length;
  const byRest = (a: number, b: number): number => {
    for (let k = 0; k < width; k++) {
      const col = keys[k]!;
      const x = col[a]!;
      const y = col[b]!;
      if (x === y) continue;
      if (x === null) return 1;
      if (y === null) return -1;
      return x < y ? -1 : 1;
    }
    return a - b;
  };
  const order = Array.from({ length: total }, (_, i) => i);
  if (prefix) {
    const offs = first.map((d) => d.valueOffsets as Int32Array);
    const vals = first.map((d) => d.values as Uint8Array);
    order.sort((a, b) => {
      const d = prefix[a]! - prefix[b]!;
      if (d < 0) return -1;
      if (d > 0) return 1;
      // Equal prefixes (or both null, Infinity - Infinity = NaN): the bytes decide.
      const x = utf8Compare(first, offs, vals, chunkOf[a]!, rowOf[a]!, chunkOf[b]!, rowOf[b]!);
      return x !== 0 ? x : byRest(a, b);
    });
  } else {
    order.sort(byRest);
  }
  const g: Gather = { chunks: Int32Array.from(order, (i) => chunkOf[i]!), rows: Int32Array.from(order, (i) => rowOf[i]!) };
  const children = schema.fields.map((_, ci) => gather(batches.map((b) => b.data.children[ci]!), g));
  const data = makeData({ type: new Struct(schema.fields), length: order.length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}
