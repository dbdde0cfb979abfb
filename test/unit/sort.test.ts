/** sortBatches: every row survives with every nested value, in key order (one or several keys), nulls included. */
import { describe, expect, it } from 'vitest';
import { Bool, Field, Float32, Float64, Int16, Int32, Int64, Int8, List, RecordBatch, Schema, Struct, Table, Uint16, Utf8, makeData, vectorFromArray } from 'apache-arrow';
import { decodeTraces } from '../../src/otlp/decode.js';
import { convertTraces } from '../../src/pipeline/convert-traces.js';
import { Partitioner } from '../../src/pipeline/partitioner.js';
import { sortBatches } from '../../src/pipeline/sort.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { Int32Builder, StringMapBuilder, TimestampNsBuilder, Utf8Builder, type ColumnBuilder } from '../../src/schema/columns.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

const partitioner = new Partitioner({ granularity: 'day', format: 'date=%Y-%m-%d', byService: false });
const promoted = ['http.response.status_code'].map(parsePromoted);

function batchOf(spans: Record<string, unknown>[]): RecordBatch {
  const req = decodeTraces('json', Buffer.from(JSON.stringify(jsonTraceRequest(spans))));
  const [group] = convertTraces(req, partitioner, promoted).groups;
  return group!.batch;
}

function rows(batch: RecordBatch): string[] {
  return batch.toArray().map((r) => JSON.stringify(r.toJSON(), (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
}

describe('sortBatches', () => {
  it('orders rows of several batches (one of them sliced) by trace_id and keeps every value', () => {
    const span = (trace: number, i: number) => ({
      ...jsonSpan({
        traceId: hexId(16, trace),
        startNs: T0_NS + BigInt(i),
        name: `s${i}`,
        attributes: i % 2 ? [{ key: 'http.response.status_code', value: { intValue: 200 + i } }, { key: 'k', value: { stringValue: `v${i}` } }] : [],
        ...(i % 3 === 0 ? { parentSpanId: hexId(8, 1000 + i) } : {}),
      }),
      events: Array.from({ length: i % 3 }, (_, e) => ({ timeUnixNano: (T0_NS + BigInt(e)).toString(), name: `e${e}`, attributes: [{ key: 'n', value: { intValue: e } }] })),
      links: i % 4 === 0 ? [{ traceId: hexId(16, 77), spanId: hexId(8, 78), attributes: [] }] : [],
    });
    const a = batchOf([9, 3, 7, 3, 1].map((t, i) => span(t, i)));
    const b = batchOf([5, 2, 8, 2, 6, 4].map((t, i) => span(t, 10 + i))).slice(1, 4); // traces 2, 8, 2
    const sorted = sortBatches([a, b], 'trace_id');
    expect(sorted.numRows).toBe(a.numRows + b.numRows);
    const ids = sorted.getChild('trace_id')!.toArray() as string[];
    expect([...ids]).toEqual([...ids].sort());
    // The same multiset of complete rows, each row intact.
    expect(rows(sorted).sort()).toEqual([...rows(a), ...rows(b)].sort());
    // Stable: equal trace ids keep their arrival order.
    const names = sorted.toArray().filter((r) => r.trace_id === hexId(16, 3)).map((r) => r.name);
    expect(names).toEqual(['s1', 's3']);
  });

  /** A batch of (service, attrs, time, n) rows; `attrs` null for a null map. */
  function keyed(rows: [string | null, Record<string, string> | null, bigint | null, number][]): RecordBatch {
    const cols: [string, ColumnBuilder][] = [
      ['service', new Utf8Builder()],
      ['attrs', new StringMapBuilder()],
      ['time', new TimestampNsBuilder()],
      ['n', new Int32Builder()],
    ];
    const [service, attrs, time, n] = cols.map(([, b]) => b) as [Utf8Builder, StringMapBuilder, TimestampNsBuilder, Int32Builder];
    for (const [s, a, t, i] of rows) {
      service.append(s);
      if (a === null) attrs.appendNull();
      else {
        for (const [k, v] of Object.entries(a)) attrs.entry(k, v);
        attrs.endRow();
      }
      time.append(t);
      n.append(i);
    }
    const fields = cols.map(([name, b]) => new Field(name, b.type, true));
    return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children: cols.map(([, b]) => b.finish()) }));
  }

  it('orders by several keys (string, map, timestamp), each ascending with nulls last, ties in arrival order', () => {
    const a = keyed([
      ['web', { route: '/b' }, 30n, 0],
      ['api', { route: '/a' }, 20n, 1],
      [null, { route: '/a' }, 10n, 2],
      ['web', { route: '/a' }, null, 3],
      ['web', { route: '/a' }, 5n, 4],
    ]);
    const b = keyed([
      ['api', { route: '/a' }, 20n, 5],
      ['web', null, 1n, 6],
      ['api', { route: '/a', code: '200' }, 1n, 7],
      ['web', { route: '/a' }, 5n, 8],
    ]).slice(1); // drops n=5
    const sorted = sortBatches([a, b], ['service', 'attrs', 'time']);
    const order = sorted.toArray().map((r) => r.n as number);
    // Maps compare by their keys' bytes, then their values' ("route" sorts before "routecode").
    expect(order).toEqual([1, 7, 4, 8, 3, 0, 6, 2]);
    expect(sortBatches([a, b], 'time').toArray().map((r) => r.n as number)).toEqual([6, 7, 4, 8, 2, 1, 0, 3]);
    expect(() => sortBatches([a], ['nope'])).toThrow(/no column "nope"/);
  });

  it('orders strings by their UTF-8 bytes when the first 6 bytes tie, are shorter, or are multi-byte', () => {
    const values = ['abcdefz', 'abcdefa', 'ab', 'ab\u0000', 'ab\u0001', null, '', 'é', 'z', 'abcdef', '\u{1F600}x', 'abcdefa'];
    const a = keyed(values.slice(0, 6).map((v, i) => [v, null, null, i]));
    const b = keyed(values.slice(6).map((v, i) => [v, null, null, 6 + i]));
    const order = sortBatches([a, b], 'service').toArray().map((r) => r.n as number);
    const bytes = (v: string) => Buffer.from(v, 'utf8');
    const expected = values
      .map((v, i) => ({ v, i }))
      .sort((x, y) => (x.v === null ? (y.v === null ? 0 : 1) : y.v === null ? -1 : Buffer.compare(bytes(x.v), bytes(y.v))) || x.i - y.i)
      .map((x) => x.i);
    expect(order).toEqual(expected);
    expect(order.slice(0, 4)).toEqual([6, 2, 3, 4]); // '', 'ab', 'ab\0', 'ab\1'
    expect(order.at(-1)).toBe(5); // null last
  });

  it('gathers runs of neighbouring rows (booleans, lists and strings with nulls, a sliced batch) intact', () => {
    const batch = (keys: string[], offset: number): RecordBatch => {
      const n = keys.length;
      const flag = vectorFromArray(Array.from({ length: n }, (_, i) => ((i + offset) % 5 === 0 ? null : (i + offset) % 2 === 0)), new Bool());
      const list = vectorFromArray(
        Array.from({ length: n }, (_, i) => ((i + offset) % 4 === 3 ? null : Array.from({ length: (i + offset) % 3 }, (_, j) => (i + offset) * 10 + j))),
        new List(new Field('item', new Int32(), true)),
      );
      const text = vectorFromArray(Array.from({ length: n }, (_, i) => ((i + offset) % 6 === 1 ? null : `t${i + offset}`.repeat(1 + ((i + offset) % 40)))), new Utf8());
      return new Table({ k: vectorFromArray(keys, new Utf8()), flag, list, text }).batches[0]! as RecordBatch;
    };
    // Keys in runs: rows of one key are neighbours in their batch, and stay neighbours sorted.
    const a = batch(['m', 'm', 'm', 'c', 'c', 'x', 'a', 'a', 'a', 'a'], 0);
    const b = batch(['z', 'b', 'b', 'b', 'c', 'c', 'y', 'a'], 100).slice(1, 7);
    const sorted = sortBatches([a, b], 'k');
    const plain = (x: RecordBatch) => x.toArray().map((r) => JSON.stringify(r.toJSON()));
    expect(plain(sorted)).toEqual(
      [...plain(a).map((r, i) => ({ r, key: a.get(i)!.k as string, at: i })), ...plain(b).map((r, i) => ({ r, key: b.get(i)!.k as string, at: 100 + i }))]
        .sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.at - y.at))
        .map((x) => x.r),
    );
    expect(sorted.getChild('flag')!.nullCount).toBe(a.getChild('flag')!.nullCount + b.getChild('flag')!.nullCount);
  });
  it('sorts runs of equal keys like a stable row sort (random batches, runs long and short, nulls, 64-bit values)', () => {
    // A seeded generator: the same cases every run.
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const services = [null, 'api', 'web', 'web-1', 'db', 'abcdefg', 'abcdefh'];
    let n = 0;
    const batches: RecordBatch[] = [];
    for (let c = 0; c < 12; c++) {
      const rows: [string | null, Record<string, string> | null, bigint | null, number][] = [];
      while (rows.length < 40 + rnd(60)) {
        // A run of one key (1–70 rows), as an exporter's batch holds a trace's spans.
        const service = services[rnd(services.length)]!;
        const attrs = rnd(4) === 0 ? null : { route: `/r${rnd(3)}` };
        const time = rnd(5) === 0 ? null : BigInt(rnd(3)) * 2n ** 60n - 2n ** 61n + BigInt(rnd(1000));
        for (let len = 1 + rnd(rnd(2) === 0 ? 3 : 70); len > 0; len--) rows.push([service, attrs, time, n++]);
      }
      const batch = keyed(rows);
      batches.push(c % 5 === 4 ? batch.slice(3, batch.numRows - 2) : batch);
    }
    // Times read from the column's int64 values (a row's toJSON gives lossy milliseconds).
    const all = batches.flatMap((b) => {
      const times = b.getChild('time')!;
      const raw = times.data[0]!.values as BigInt64Array;
      return b.toArray().map((r, i) => ({ service: r.service as string | null, time: times.isValid(i) ? raw[i]! : null, n: r.n as number }));
    });
    const cmp = (x: string | bigint | null, y: string | bigint | null): number => (x === y ? 0 : x === null ? 1 : y === null ? -1 : x < y ? -1 : 1);
    for (const by of [['service'], ['service', 'time'], ['time', 'service']]) {
      const sorted = sortBatches(batches, by);
      const expected = [...all].sort((x, y) => {
        for (const k of by) {
          const d = cmp(x[k as 'service' | 'time'], y[k as 'service' | 'time']);
          if (d !== 0) return d;
        }
        return 0; // Array.prototype.sort is stable: ties keep arrival order
      });
      expect(sorted.toArray().map((r) => r.n as number)).toEqual(expected.map((r) => r.n));
      // Every 64-bit value copied intact (they do not fit a double).
      expect([...(sorted.getChild('time')!.data[0]!.values as BigInt64Array)]).toEqual(expected.map((r) => r.time ?? 0n));
      expect(sorted.getChild('time')!.nullCount).toBe(all.filter((r) => r.time === null).length);
    }
  });
  it('gathers every fixed-width element size (1, 2, 4 and 8 bytes, integers and floats) with nulls, across chunks and a slice', () => {
    // The copy goes through 32-bit words for 4- and 8-byte elements and bytes for 1 and 2: each
    // size is checked value by value, nulls and their zero slots included.
    const batch = (keys: string[], at: number): RecordBatch => {
      const n = keys.length;
      const v = (i: number) => ((i + at) % 7 === 3 ? null : i + at);
      return new Table({
        k: vectorFromArray(keys, new Utf8()),
        i8: vectorFromArray(Array.from({ length: n }, (_, i) => v(i) && v(i)! - 100), new Int8()),
        u16: vectorFromArray(Array.from({ length: n }, (_, i) => v(i) && v(i)! * 300), new Uint16()),
        i16: vectorFromArray(Array.from({ length: n }, (_, i) => v(i) && -v(i)! * 250), new Int16()),
        f32: vectorFromArray(Array.from({ length: n }, (_, i) => v(i) && v(i)! + 0.5), new Float32()),
        f64: vectorFromArray(Array.from({ length: n }, (_, i) => v(i) && v(i)! / 3), new Float64()),
        i64: vectorFromArray(Array.from({ length: n }, (_, i) => (v(i) === null ? null : BigInt(v(i)!) * -(2n ** 40n) - 1n)), new Int64()),
      }).batches[0]! as RecordBatch;
    };
    const keys = (n: number, seed: number) => Array.from({ length: n }, (_, i) => `k${(i * 7 + seed) % 5}`);
    const a = batch(keys(40, 1), 0);
    const b = batch(keys(45, 2), 50).slice(3, 41);
    const c = batch(keys(30, 3), 120);
    const sorted = sortBatches([a, b, c], 'k');
    const plain = (x: RecordBatch) => x.toArray().map((r) => JSON.stringify(r.toJSON(), (_k, val) => (typeof val === 'bigint' ? val.toString() : val)));
    const tagged = [a, b, c].flatMap((x, chunk) => plain(x).map((r, i) => ({ r, key: x.get(i)!.k as string, at: chunk * 1000 + i })));
    expect(plain(sorted)).toEqual(tagged.sort((x, y) => (x.key < y.key ? -1 : x.key > y.key ? 1 : x.at - y.at)).map((x) => x.r));
    for (const name of ['i8', 'u16', 'i16', 'f32', 'f64', 'i64']) {
      const col = sorted.getChild(name)!;
      expect(col.type.toString()).toBe(a.getChild(name)!.type.toString());
      expect(col.nullCount).toBe(a.getChild(name)!.nullCount + b.getChild(name)!.nullCount + c.getChild(name)!.nullCount);
    }
  });
});
