/**
 * A broad read's Arrow answer decoded by parquet-wasm (src/query/columnar/wasm-arrow.ts) against
 * the Arrow answer built from the scan's column arrays: the same schema, the same values in every
 * row, the same stats — on a lake the daemon wrote. Files it cannot forward (a projection) go
 * through the scan into the same stream; a filtered query is not a broad read.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC, Vector, type Table } from 'apache-arrow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { arrowBatches } from '../../src/query/columnar/arrow-batches.js';
import { wasmArrowAnswer } from '../../src/query/columnar/wasm-arrow.js';
import { emptyStats, type QueryEngine, type QueryOptions } from '../../src/query/engine.js';
import { smallLakeEngine } from '../helpers/lake.js';

async function concat(batches: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const b of batches) parts.push(b);
  // Each message owns its ArrayBuffer: a query worker transfers it to the main thread.
  for (const p of parts) expect([p.byteOffset, p.buffer.byteLength]).toEqual([0, p.byteLength]);
  return Buffer.concat(parts);
}

/** A cell as comparable plain data: big integers as text, nested rows, lists and maps unfolded. */
function plain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof Vector) return [...v].map(plain);
  if (typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    const j = (v as { toJSON(): unknown }).toJSON();
    if (j !== v) return plain(j);
  }
  if (Array.isArray(v)) return v.map(plain);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plain(x)]));
  return v;
}

function rowsOf(table: Table): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const row: Record<string, unknown> = {};
    for (const f of table.schema.fields) row[f.name] = plain(table.getChild(f.name)!.get(i));
    out.push(row);
  }
  return out;
}

describe('broad Arrow answers decoded in wasm', () => {
  let root: string;
  let engine: QueryEngine;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 's3pq-wasm-arrow-'));
    engine = await smallLakeEngine(root);
  }, 120_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  const cases: [string, QueryOptions, 'wasm' | 'scan'][] = [
    ['select *', { dataset: 'traces' }, 'wasm'],
    ['a limit inside a row group', { dataset: 'traces', limit: 1234 }, 'wasm'],
    ['a projection (scanned)', { dataset: 'traces', select: ['trace_id', 'name', 'start_time', 'attributes', 'events'] }, 'scan'],
    ['a projection in another order (scanned)', { dataset: 'traces', select: ['events', 'name', 'start_time', 'attributes', 'http_response_status_code'] }, 'scan'],
    ['one partition', { dataset: 'traces', partition: 'date=2024-01-01/hour=00' }, 'wasm'],
  ];
  for (const [name, q, how] of cases) {
    it(`${name}: the scan path's schema, rows and stats`, async () => {
      const statsScan = emptyStats();
      const statsWasm = emptyStats();
      const want = tableFromIPC(await concat(arrowBatches(engine.queryColumns(q, statsScan))));
      const files: string[] = [];
      let gathered = 0;
      const answer = wasmArrowAnswer(engine, q, statsWasm, { onFile: (_key, h) => files.push(h), checkMemory: (n) => (gathered = n) });
      expect(answer).not.toBeNull();
      const got = tableFromIPC(await concat(answer!));
      expect(files.length).toBeGreaterThan(0);
      expect(new Set(files)).toEqual(new Set([how]));
      expect(gathered).toBeGreaterThan(0);
      expect(got.schema.fields.map((f) => [f.name, String(f.type)])).toEqual(want.schema.fields.map((f) => [f.name, String(f.type)]));
      expect(got.numRows).toBeGreaterThan(0);
      expect(got.numRows).toBe(want.numRows);
      expect(rowsOf(got)).toEqual(rowsOf(want));
      expect(statsWasm.rows_returned).toBe(statsScan.rows_returned);
      expect(statsWasm.files_considered).toBe(statsScan.files_considered);
      expect(statsWasm.row_groups_considered).toBeLessThanOrEqual(statsScan.row_groups_considered);
    }, 60_000);
  }

  it('a filtered query or a time range is not a broad read', () => {
    expect(wasmArrowAnswer(engine, { dataset: 'traces', filter: "kind = 'SERVER'" }, emptyStats())).toBeNull();
    expect(wasmArrowAnswer(engine, { dataset: 'traces', start: 0n }, emptyStats())).toBeNull();
  });

  it('an empty answer (limit 0) is the schema and no rows, like the scan path', async () => {
    const q: QueryOptions = { dataset: 'traces', limit: 0 };
    const want = tableFromIPC(await concat(arrowBatches(engine.queryColumns(q))));
    const got = tableFromIPC(await concat(wasmArrowAnswer(engine, q, emptyStats())!));
    expect(got.numRows).toBe(0);
    expect(got.schema.fields.map((f) => [f.name, String(f.type)])).toEqual(want.schema.fields.map((f) => [f.name, String(f.type)]));
  });

  it('a bad query is refused before any read, as the scan path does', () => {
    expect(() => wasmArrowAnswer(engine, { dataset: 'traces', select: ['nope'] }, emptyStats())).toThrow(/unknown column "nope"/);
  });
});
