/**
 * The answers written straight from the column arrays (src/query/columnar/) against the record
 * path they replace: NDJSON and JSON items byte for byte what `recordBatches` writes for the
 * records `query` makes — on a realistic lake written by the daemon, and on hand-built columns
 * with the awkward values (nulls, unicode, control characters, lone surrogates, big integers,
 * NaN/Infinity, timestamps outside 1970–9999, nested maps and lists). Arrow answers read back
 * with apache-arrow hold the same values as the NDJSON lines.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataType, Field, Float64, Int32, Int64, List, Map_, Struct, TimestampNanosecond, Utf8, Bool, tableFromIPC, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowBatches } from '../../src/query/columnar/arrow-batches.js';
import { BATCH_BYTES, jsonBatches } from '../../src/query/columnar/json-batches.js';
import { ColumnRange, type Chunk } from '../../src/query/columns.js';
import { emptyStats, type ColumnAnswer, type QueryEngine, type QueryOptions, type RowBatch } from '../../src/query/engine.js';
import { converterFor } from '../../src/query/json-values.js';
import { recordBatches, type RecordFormat } from '../../src/query/serialise.js';
import { smallLakeEngine } from '../helpers/lake.js';

/** An Int64/Timestamp value as stored (apache-arrow's row objects turn timestamps into milliseconds). */
function rawInt64(table: Table, column: string, row: number): bigint | null {
  const vector = table.getChild(column)!;
  if (!vector.isValid(row)) return null;
  let at = row;
  for (const d of vector.data) {
    if (at < d.length) return (d.values as BigInt64Array)[d.offset + at]!;
    at -= d.length;
  }
  return null;
}

async function collect(batches: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  for await (const b of batches) parts.push(b);
  return parts;
}

async function bytesOf(batches: AsyncIterable<Uint8Array>): Promise<{ text: string; sizes: number[] }> {
  const parts: Uint8Array[] = [];
  for await (const b of batches) parts.push(b);
  return { text: Buffer.concat(parts).toString('utf8'), sizes: parts.map((p) => p.length) };
}

describe('column serialisers on a lake the daemon wrote', () => {
  let root: string;
  let engine: QueryEngine;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 's3pq-columnar-'));
    engine = await smallLakeEngine(root);
  }, 120_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  const cases: [string, QueryOptions][] = [
    ['select *', { dataset: 'traces' }],
    ['a filter and a projection', { dataset: 'traces', filter: "kind = 'SERVER' and duration_ns > 1000000", select: ['events', 'name', 'start_time', 'attributes', 'http_response_status_code'] }],
    ['a limit inside a row group', { dataset: 'traces', limit: 1234 }],
  ];
  for (const [name, q] of cases) {
    for (const format of ['ndjson', 'json-items'] as RecordFormat[]) {
      it(`${name} as ${format}: byte for byte the record path's answer`, async () => {
        const statsA = emptyStats();
        const statsB = emptyStats();
        const want = await bytesOf(recordBatches(engine.query(q, statsA), format));
        const got = await bytesOf(jsonBatches(engine.queryColumns(q, statsB), format));
        expect(got.text.length).toBeGreaterThan(1000);
        expect(got.text).toBe(want.text);
        expect(statsB.rows_returned).toBe(statsA.rows_returned);
        expect(statsB.rows_scanned).toBe(statsA.rows_scanned);
        // Batches of about BATCH_BYTES each: streamed, not one answer.
        expect(got.sizes.length).toBeGreaterThan(1);
        for (const s of got.sizes.slice(0, -1)) expect(s).toBeGreaterThanOrEqual(BATCH_BYTES);
      }, 60_000);
    }
  }

  it('an Arrow answer read back with apache-arrow holds the NDJSON values, in the dataset types', async () => {
    const q: QueryOptions = { dataset: 'traces' };
    const ndjson = (await bytesOf(jsonBatches(engine.queryColumns(q), 'ndjson'))).text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    let hooked = 0;
    const ipc = Buffer.concat(await collect(arrowBatches(engine.queryColumns(q), { checkMemory: (n) => (hooked = n) })));
    const table = tableFromIPC(ipc);
    expect(table.numRows).toBe(ndjson.length);
    expect(hooked).toBeGreaterThan(0);
    expect(String(table.schema.fields.find((f) => f.name === 'start_time')!.type)).toBe('Timestamp<NANOSECOND>');
    expect(DataType.isMap(table.schema.fields.find((f) => f.name === 'attributes')!.type)).toBe(true);
    const conv = {
      start_time: converterFor(new TimestampNanosecond()),
      duration_ns: converterFor(new Int64()),
    };
    let withEvents = 0;
    for (let i = 0; i < table.numRows; i += 97) {
      const row = table.get(i)!.toJSON() as Record<string, unknown>;
      const want = ndjson[i]!;
      expect(row.trace_id).toBe(want.trace_id);
      expect(row.parent_span_id ?? null).toBe(want.parent_span_id);
      expect(conv.start_time(rawInt64(table, 'start_time', i))).toBe(want.start_time);
      expect(conv.duration_ns(row.duration_ns)).toBe(want.duration_ns);
      expect(Object.fromEntries([...(row.attributes as Iterable<[string, string]>)].map(([k, v]) => [k, v]))).toEqual(want.attributes);
      const events = [...((row.events as Iterable<{ toJSON(): Record<string, unknown> }> | null) ?? [])].map((e) => e.toJSON());
      const wantEvents = want.events as { time: string; name: string }[];
      // (apache-arrow's row objects turn timestamps into milliseconds)
      expect(events.map((e) => [new Date(e.time as number).toISOString().slice(0, 23), e.name])).toEqual(wantEvents.map((e) => [e.time.slice(0, 23), e.name]));
      if (events.length > 0) withEvents++;
    }
    expect(withEvents).toBeGreaterThan(0);
  }, 60_000);
});

/** A ColumnAnswer over hand-built columns: each column's values split into chunks of `chunk` rows. */
function handBuilt(columns: Record<string, { type: DataType; values: unknown[] }>, rows: number[], chunk = 3): ColumnAnswer {
  const chunks = new Map<string, Chunk[]>();
  for (const [name, { values }] of Object.entries(columns)) {
    const list: Chunk[] = [];
    for (let s = 0; s < values.length; s += chunk) list.push({ start: s, end: Math.min(values.length, s + chunk), values: values.slice(s, s + chunk) });
    chunks.set(name, list);
  }
  const fields = [...Object.entries(columns).map(([name, { type }]) => new Field(name, type, true)), new Field('missing_in_file', new Utf8(), true)];
  const data = new ColumnRange(chunks);
  async function* batches(): AsyncGenerator<RowBatch> {
    yield { data, rows: Int32Array.from(rows) };
  }
  return { fields, batches: batches() };
}

/** What the record path writes: one object per row, values through converterFor, JSON.stringify. */
function reference(columns: Record<string, { type: DataType; values: unknown[] }>, rows: number[], sep: string): string {
  const names = [...Object.keys(columns), 'missing_in_file'];
  const convs = names.map((n) => converterFor(columns[n]?.type ?? new Utf8()));
  return rows.map((r) => JSON.stringify(Object.fromEntries(names.map((n, k) => [n, convs[k]!(columns[n]?.values[r] ?? null)]))) + sep).join('');
}

const MAP = new Map_<Utf8, Utf8>(new Field('entries', new Struct<{ key: Utf8; value: Utf8 }>([new Field('key', new Utf8(), false), new Field('value', new Utf8(), true)]), false));
const EVENT = new Struct([new Field('time', new TimestampNanosecond(), true), new Field('name', new Utf8(), true), new Field('attributes', MAP, true), new Field('count', new Int64(), true)]);

describe('column serialisers on hand-built edge cases', () => {
  const n = 12;
  const pick = <T>(vals: T[]): T[] => Array.from({ length: n }, (_, i) => vals[i % vals.length]!);
  const columns: Record<string, { type: DataType; values: unknown[] }> = {
    text: { type: new Utf8(), values: pick<unknown>(['plain', null, undefined, 'quote " and \\ back', 'tab\tnew\nline\r\u0000\u001f\u007f', 'naïve café 日本語 🚀', '\ud800 lone \udfff', '\u2028\u2029', '', 'x'.repeat(300)]) },
    int64: { type: new Int64(), values: pick<unknown>([0n, -1n, 9007199254740991n, 9007199254740992n, -9007199254740992n, -9223372036854775808n, 9223372036854775807n, null, 42, undefined]) },
    int32: { type: new Int32(), values: pick<unknown>([0, -2147483648, 2147483647, null, 7]) },
    float: { type: new Float64(), values: pick<unknown>([0.1, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 1e21, 5e-324, null, 123456789.125, -3]) },
    bool: { type: new Bool(), values: pick<unknown>([true, false, null]) },
    time: { type: new TimestampNanosecond(), values: pick<unknown>([0n, 1704067200123456789n, -1n, -1_500_000_000n, 253402300799999999999n, 253402300800000000000n, 951782400000000001n, null, new Date(Date.UTC(2024, 1, 29)), 1700000000000]) },
    attrs: { type: MAP, values: pick<unknown>([{ a: '1', b: null, 'ключ': 'знач"ение' }, {}, null, { 10: 'x', 2: 'y', z: 'z' }, new Map<unknown, unknown>([[1, 'one'], ['two', null]]), { u: undefined, v: 'w' }]) },
    events: { type: new List(new Field('item', EVENT, true)), values: pick<unknown>([[{ time: 1n, name: 'e', attributes: { k: 'v' }, count: 2n }], [], null, [null, undefined, { name: 'no time' }, 'not an object'], [{ time: 1704067200000000000n, name: '\u0001', attributes: {}, count: 2n ** 60n }]]) },
    numbers: { type: new List(new Field('item', new Float64(), true)), values: pick<unknown>([[1, 2.5, Number.NaN], null, [], [undefined, null, Number.NEGATIVE_INFINITY]]) },
  };
  const rows = [0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11];

  for (const [format, sep] of [['ndjson', '\n'], ['json-items', ',']] as const) {
    it(`${format}: byte for byte JSON.stringify of the converted records`, async () => {
      const got = await bytesOf(jsonBatches(handBuilt(columns, rows), format));
      expect(got.text).toBe(reference(columns, rows, sep));
      expect(got.text).toContain('\\ud800'); // lone surrogates escaped, as JSON.stringify does
      expect(got.text).toContain('"-9007199254740992"'); // beyond 2^53: a string
      expect(got.text).toContain('"NaN"');
    });
  }

  it('a row larger than a batch, and many rows: the same text, in batches', async () => {
    const big = { text: { type: new Utf8() as DataType, values: ['é'.repeat(BATCH_BYTES), ...Array.from({ length: 30_000 }, (_, i) => `row ${i}`)] } };
    const all = Array.from({ length: big.text.values.length }, (_, i) => i);
    const got = await bytesOf(jsonBatches(handBuilt(big, all, 1000), 'ndjson'));
    expect(got.text).toBe(reference(big, all, '\n'));
    expect(got.sizes.length).toBeGreaterThan(1);
  });

  it('Arrow: the values come back in their types (nulls, big integers, unicode, maps, lists)', async () => {
    const cols = { text: columns.text!, int64: columns.int64!, time: columns.time!, attrs: columns.attrs!, numbers: columns.numbers! };
    const ipc = Buffer.concat(await collect(arrowBatches(handBuilt(cols, rows))));
    const table = tableFromIPC(ipc);
    expect(table.numRows).toBe(rows.length);
    rows.forEach((r, i) => {
      const row = table.get(i)!.toJSON() as Record<string, unknown>;
      const text = cols.text.values[r];
      expect(row.text ?? null).toBe(typeof text === 'string' ? Buffer.from(text, 'utf8').toString('utf8') : null);
      const int = cols.int64.values[r];
      expect(row.int64 ?? null).toBe(typeof int === 'number' ? BigInt(int) : (int ?? null));
      const time = cols.time.values[r];
      expect(rawInt64(table, 'time', i)).toBe(typeof time === 'bigint' ? BigInt.asIntN(64, time) : time instanceof Date ? BigInt(time.getTime()) * 1_000_000n : null);
    });
    expect(table.getChild('missing_in_file')!.nullCount).toBe(rows.length);
  });
});
