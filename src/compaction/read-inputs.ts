/**
 * A compaction's input files as Arrow record batches of the dataset's current schema.
 *
 * Files are decoded with parquet-wasm, which restores the exact Arrow types our writer stored
 * (the `ARROW:schema` footer entry: unzoned ns timestamps, maps, lists of structs), so rows
 * survive the round trip unchanged — the query engine's hyparquet reader yields JS values,
 * which would have to be re-typed column by column. Files of an older schema version are
 * conformed by name (the union the library's reads use): a column the file lacks is null, a
 * column the current schema dropped is refused, naming the file — unless the current schema
 * derives it from columns it keeps (the traces' `end_time`, schema version 3): then it is
 * dropped after checking, row by row, that it equals the derivation, so nothing is lost.
 */
import { makeBuilder, makeData, RecordBatch, Struct, tableFromIPC, type Data, type DataType, type Field, type Schema } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';
import { S3ParquetError } from '../errors.js';
import { int64Sum, type DerivedColumn } from '../schema/derived.js';

/** Decodes one stored Parquet file and conforms its batches to `schema`. */
export function readAsSchema(key: string, bytes: Uint8Array, schema: Schema, derived: readonly DerivedColumn[] = []): RecordBatch[] {
  let table;
  try {
    table = tableFromIPC(wasm.readParquet(bytes).intoIPCStream());
  } catch (err) {
    throw new S3ParquetError('STORE_FAILED', `compaction cannot decode ${key}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const byName = new Map(table.schema.fields.map((f, i) => [f.name, i]));
  const dropped: DerivedColumn[] = [];
  for (const f of table.schema.fields) {
    if (!schema.fields.some((t) => t.name === f.name)) {
      const d = derived.find((x) => x.name === f.name && byName.has(x.sum[0]) && byName.has(x.sum[1]));
      if (d) {
        dropped.push(d);
        continue;
      }
      throw new S3ParquetError('SCHEMA_INVALID', `compaction cannot merge ${key}: its column "${f.name}" is not in the current schema`);
    }
  }
  const out: RecordBatch[] = [];
  for (const batch of table.batches) {
    const n = batch.numRows;
    if (n === 0) continue;
    for (const d of dropped) checkDerived(key, d, batch, byName);
    const children: Data[] = schema.fields.map((target) => {
      const i = byName.get(target.name);
      if (i === undefined) return nullData(target.type, n);
      const data = batch.data.children[i]!;
      if (!sameShape(data.type, target.type)) {
        throw new S3ParquetError('SCHEMA_INVALID', `compaction cannot merge ${key}: column "${target.name}" is ${String(data.type)}, the current schema has ${String(target.type)}`);
      }
      // Same physical layout: re-labelled with the current type (child field names may differ).
      return data.clone(target.type);
    });
    out.push(new RecordBatch(schema, makeData({ type: new Struct(schema.fields as Field[]), length: n, nullCount: 0, children })));
  }
  return out;
}

/** Throws naming the file and row when a stored column differs from its derivation (it would be lost). */
function checkDerived(key: string, d: DerivedColumn, batch: RecordBatch, byName: ReadonlyMap<string, number>): void {
  const col = (name: string): Data => batch.data.children[byName.get(name)!]!;
  const stored = col(d.name);
  const a = col(d.sum[0]);
  const b = col(d.sum[1]);
  for (let i = 0; i < batch.numRows; i++) {
    const s = stored.getValid(i) ? (stored.values as BigInt64Array)[stored.offset + i] : null;
    const x = a.getValid(i) ? (a.values as BigInt64Array)[a.offset + i] : null;
    const y = b.getValid(i) ? (b.values as BigInt64Array)[b.offset + i] : null;
    const want = x === null || x === undefined || y === null || y === undefined ? null : int64Sum(x, y);
    if (s !== want) {
      throw new S3ParquetError('SCHEMA_INVALID', `compaction cannot merge ${key}: its column "${d.name}" is ${String(s)} in row ${i}, not ${d.sum[0]} + ${d.sum[1]} = ${String(want)}, and the current schema derives it`);
    }
  }
}

/** Same type ids all the way down (names and nullability aside). */
function sameShape(a: DataType, b: DataType): boolean {
  if (a.typeId !== b.typeId) return false;
  const ac = a.children ?? [];
  const bc = b.children ?? [];
  if (ac.length !== bc.length) return false;
  for (let i = 0; i < ac.length; i++) if (!sameShape(ac[i]!.type, bc[i]!.type)) return false;
  const unit = (t: DataType): unknown => (t as { unit?: unknown }).unit;
  return unit(a) === unit(b);
}

function nullData(type: DataType, n: number): Data {
  const b = makeBuilder({ type, nullValues: [null] });
  for (let i = 0; i < n; i++) b.append(null);
  return b.finish().flush();
}
