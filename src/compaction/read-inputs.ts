/**
 * A compaction's input files as Arrow record batches of the dataset's current schema.
 *
 * Files are decoded with parquet-wasm, which restores the exact Arrow types our writer stored
 * (the `ARROW:schema` footer entry: unzoned ns timestamps, maps, lists of structs), so rows
 * survive the round trip unchanged — the query engine's hyparquet reader yields JS values,
 * which would have to be re-typed column by column. Files of an older schema version are
 * conformed by name (the union the library's reads use): a column the file lacks is null, a
 * column the current schema dropped is refused, naming the file.
 */
import { makeBuilder, makeData, RecordBatch, Struct, tableFromIPC, type Data, type DataType, type Field, type Schema } from 'apache-arrow';
import * as wasm from 'parquet-wasm/node';
import { S3ParquetError } from '../errors.js';

/** Decodes one stored Parquet file and conforms its batches to `schema`. */
export function readAsSchema(key: string, bytes: Uint8Array, schema: Schema): RecordBatch[] {
  let table;
  try {
    table = tableFromIPC(wasm.readParquet(bytes).intoIPCStream());
  } catch (err) {
    throw new S3ParquetError('STORE_FAILED', `compaction cannot decode ${key}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const byName = new Map(table.schema.fields.map((f, i) => [f.name, i]));
  for (const f of table.schema.fields) {
    if (!schema.fields.some((t) => t.name === f.name)) {
      throw new S3ParquetError('SCHEMA_INVALID', `compaction cannot merge ${key}: its column "${f.name}" is not in the current schema`);
    }
  }
  const out: RecordBatch[] = [];
  for (const batch of table.batches) {
    const n = batch.numRows;
    if (n === 0) continue;
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
