/**
 * The filter language against DuckDB as the reference: on a deterministic corpus, `evaluate`
 * must keep exactly the rows DuckDB keeps for `toSql(expr)` (and for the filter text itself
 * where DuckDB reads it the same way), and `mightMatch` must never prune a chunk holding a
 * matching row.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluate, mightMatch, parseFilter, toSql, type ColumnCatalog, type ColumnStats, type Expr } from '../../src/query/filter/index.js';

const catalog: ColumnCatalog = new Map([
  ['id', 'int'],
  ['service_name', 'string'],
  ['name', 'string'],
  ['duration_ns', 'int'],
  ['start_time', 'timestamp'],
  ['status_code', 'string'],
  ['http_response_status_code', 'int'],
  ['is_root', 'bool'],
  ['score', 'float'],
  ['attributes', 'map'],
]);

interface CorpusRow {
  id: number;
  service_name: string | null;
  name: string;
  duration_ns: bigint | null;
  start_time: bigint;
  status_code: string;
  http_response_status_code: number | null;
  is_root: boolean | null;
  score: number | null;
  attributes: Record<string, string | null> | null;
}

/** mulberry32: a small seeded PRNG, so the corpus is the same on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NS_2024 = 1_704_067_200_000_000_000n; // 2024-01-01T00:00:00Z
const ROWS = 2000;
const SERVICES = ['frontend', 'checkout', 'cart', 'payment', 'ad-service', "o'brien", 'café'];
const NAMES = ['GET /api/users', 'GET /api/cart', 'POST /api/checkout', 'db.query', 'a_b', 'aXb', '100%', '100 percent', '😀 emoji', '\uE000 private', '', 'Zeta', 'zeta'];

function generate(): CorpusRow[] {
  const r = prng(20240101);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const rows: CorpusRow[] = [];
  for (let id = 0; id < ROWS; id++) {
    let duration: bigint | null = r() < 0.08 ? null : BigInt(Math.floor(r() ** 3 * 5e9));
    if (id % 97 === 0) duration = 1_500_000n;
    if (id % 89 === 0) duration = 1000n;
    if (id === 1234) duration = 9_007_199_254_740_993n; // beyond 2^53: must stay exact
    let start = NS_2024 + BigInt(id) * 1_700_000_000n + BigInt(Math.floor(r() * 1e9));
    if (id % 500 === 7) start = -1n; // 1969-12-31T23:59:59.999999999Z
    if (id % 500 === 8) start = NS_2024;
    let attributes: Record<string, string | null> | null = null;
    if (r() >= 0.05) {
      attributes = {};
      if (r() < 0.7) attributes['http.request.method'] = pick(['GET', 'POST', 'PUT']);
      if (r() < 0.5) attributes['http.route'] = pick(['/api/users', '/api/cart', '/health']);
      if (r() < 0.2) attributes['error'] = 'true';
      if (r() < 0.3) attributes['nullable'] = r() < 0.5 ? null : 'set';
    }
    const scoreRoll = r();
    rows.push({
      id,
      service_name: r() < 0.1 ? null : pick(SERVICES),
      name: pick(NAMES),
      duration_ns: duration,
      start_time: start,
      status_code: pick(['OK', 'ERROR', 'UNSET']),
      http_response_status_code: r() < 0.2 ? null : pick([200, 201, 204, 301, 404, 500, 503]),
      is_root: r() < 0.1 ? null : r() < 0.3,
      score: scoreRoll < 0.15 ? null : scoreRoll < 0.17 ? Number.NaN : scoreRoll < 0.2 ? 3 : Math.round(r() * 1000) / 100,
      attributes,
    });
  }
  return rows;
}

const q = (s: string): string => `'${s.replaceAll("'", "''")}'`;
const orNull = <T>(v: T | null, f: (v: T) => string): string => (v === null ? 'NULL' : f(v));

function insertSql(rows: readonly CorpusRow[]): string {
  const tuples = rows.map((row) => {
    const attrs = orNull(row.attributes, (a) => {
      const keys = Object.keys(a);
      return `map([${keys.map(q).join(', ')}]::VARCHAR[], [${keys.map((k) => orNull(a[k]!, q)).join(', ')}]::VARCHAR[])`;
    });
    return `(${[
      row.id,
      orNull(row.service_name, q),
      q(row.name),
      orNull(row.duration_ns, String),
      `make_timestamp_ns(${row.start_time})`,
      q(row.status_code),
      orNull(row.http_response_status_code, String),
      orNull(row.is_root, String),
      // Through a string: DuckDB parses it exactly as JavaScript does (NaN included).
      orNull(row.score, (s) => `'${s}'::DOUBLE`),
      attrs,
    ].join(', ')})`;
  });
  return `INSERT INTO t VALUES ${tuples.join(',\n')}`;
}

/**
 * Each row as `evaluate` sees it. Half the rows give ints as number and maps as Map, the
 * other half bigint and plain records, so both accepted shapes are exercised.
 */
function accessor(row: CorpusRow): (c: string) => unknown {
  const odd = row.id % 2 === 1;
  const values: Record<string, unknown> = { ...row };
  if (odd && row.duration_ns !== null) values['duration_ns'] = Number(row.duration_ns);
  if (!odd && row.http_response_status_code !== null) values['http_response_status_code'] = BigInt(row.http_response_status_code);
  if (odd && row.attributes !== null) values['attributes'] = new Map(Object.entries(row.attributes));
  values['id'] = BigInt(row.id);
  return (c) => values[c];
}

// [filter, DuckDB reads the text verbatim with the same meaning]
const FILTERS: [string, boolean][] = [
  ["service_name = 'cart'", true],
  ["service_name != 'cart'", true],
  ["service_name <> 'cart'", true],
  ['service_name IS NULL', true],
  ['service_name IS NOT NULL', true],
  ["NOT service_name = 'cart'", true],
  ["NOT (service_name = 'cart')", true],
  ["service_name IN ('cart', 'payment')", true],
  ["service_name NOT IN ('cart', 'payment')", true],
  ["NOT service_name IN ('cart')", true],
  ["service_name = 'o''brien'", true],
  ["service_name > 'café'", true],
  ["service_name < 'c'", true],
  ["name LIKE 'GET%'", true],
  ["name LIKE '%api%'", true],
  ["name LIKE 'a_b'", true],
  ["name LIKE '100%'", true],
  ["name LIKE '100_%'", true],
  ["name NOT LIKE '%/%'", true],
  ["name LIKE '%'", true],
  ["name LIKE ''", true],
  ["name = ''", true],
  ["name LIKE '_ emoji'", true],
  ["name >= '😀'", true],
  ["name > '\uE000'", true],
  ["name < 'Zeta'", true],
  ["name > 'zeta'", true],
  ['duration_ns > 1000000', true],
  ['duration_ns >= 1.5e6', true],
  ['duration_ns = 1500000', true],
  ['duration_ns < 1000', true],
  ['duration_ns <= 1000', true],
  ['duration_ns != 1000', true],
  ['duration_ns IS NULL', true],
  ['NOT duration_ns > 1000000', true],
  ["NOT (duration_ns > 1000000 AND service_name = 'cart')", true],
  ['duration_ns IN (1000, 1500000)', true],
  ['duration_ns NOT IN (1000, 1500000)', true],
  ['duration_ns > 2.5', true],
  ['duration_ns < 1e9 AND duration_ns > 1e8', true],
  ['1000000 <= duration_ns', true],
  ['duration_ns = 9007199254740993', true],
  ['duration_ns > -1', true],
  ["start_time >= '2024-01-01T00:30:00Z'", true],
  ["start_time < '2024-01-01T00:10:00.5Z'", true],
  ["start_time >= TIMESTAMP '2024-01-01T00:20:00Z' AND start_time < TIMESTAMP '2024-01-01T00:25:00Z'", true],
  ["start_time > '2024-01-01T02:40:00+02:00'", true],
  ["start_time < '2024-01-01'", true],
  ["start_time = '2024-01-01T00:00:00Z'", true],
  ["start_time <= '1969-12-31T23:59:59.999999999Z'", true],
  // DuckDB's TIMESTAMP literal ignores the offset; ours applies it (so only toSql is compared).
  ["start_time > TIMESTAMP '2024-01-01T01:40:00+02:00'", false],
  ["start_time IN ('2024-01-01', '1969-12-31T23:59:59.999999999Z')", true],
  ["status_code = 'ERROR'", true],
  ["status_code IN ('OK', 'UNSET')", true],
  ['http_response_status_code >= 500', true],
  ['http_response_status_code NOT IN (200, 201)', true],
  ['http_response_status_code IS NULL OR http_response_status_code = 404', true],
  ['NOT (http_response_status_code = 200)', true],
  ['is_root', true],
  ['NOT is_root', true],
  ['is_root = FALSE', true],
  ['is_root IS NULL', true],
  ['is_root != TRUE', true],
  ['score > 3', true],
  ['score >= 3 AND score <= 3', true],
  ['score = 3', true],
  ['score < 0.5', true],
  ['score > 9.99', true],
  ['NOT score > 5', true],
  ['score IN (1, 2.5, 3)', true],
  ['score != 1.5', true],
  ["attributes['http.request.method'] = 'GET'", true],
  ["attributes['http.request.method'] != 'GET'", true],
  ["attributes['missing.key'] IS NULL", true],
  ["attributes['missing.key'] = 'x'", true],
  ["attributes['http.route'] LIKE '/api/%'", true],
  ["attributes['nullable'] IS NULL", true],
  ["attributes['nullable'] IS NOT NULL", true],
  ["NOT attributes['http.request.method'] IN ('GET', 'POST')", true],
  ['attributes IS NULL', true],
  [`"service_name" = 'cart' AND "attributes"['error'] = 'true'`, true],
  ['TRUE', true],
  ['FALSE', true],
  ['NOT FALSE AND is_root', true],
  ["status_code = 'ERROR' OR duration_ns > 4e9 AND NOT is_root", true],
  ["(status_code = 'ERROR' OR duration_ns > 4e9) AND NOT is_root", true],
  ['NOT (is_root OR score > 5)', true],
  ["service_name is not null and name like 'GET%' Or not is_root", true],
  ['NOT NOT (duration_ns IS NULL)', true],
  ['NOT (service_name IS NULL OR duration_ns IS NULL) AND NOT (http_response_status_code IN (200) OR score < 1)', true],
  ['id < 100 OR id >= 1900', true],
  // Negations at values the data holds, so pruning's operator flips meet their boundaries.
  ['NOT duration_ns < 1000', true],
  ['NOT duration_ns >= 1500000', true],
  ['NOT score <= 3', true],
  ['NOT http_response_status_code > 404', true],
  ['NOT http_response_status_code != 404', true],
  ["name NOT LIKE 'zeta'", true],
  ["NOT name LIKE 'GET /api/users'", true],
  ["NOT name NOT LIKE 'GET%'", true],
  ["NOT service_name NOT IN ('cart', 'café')", true],
  ["NOT (start_time >= '2024-01-01T00:00:00Z')", true],
];

const corpus = generate();
const rowsOf = new Map(corpus.map((r) => [r.id, accessor(r)]));
let instance: DuckDBInstance;
let conn: DuckDBConnection;

async function duckIds(where: string): Promise<number[]> {
  const reader = await conn.runAndReadAll(`SELECT id FROM t WHERE ${where} ORDER BY id`);
  return reader.getRowObjectsJS().map((r) => r['id'] as number);
}

function jsIds(expr: Expr, rows: readonly CorpusRow[] = corpus): number[] {
  return rows.filter((r) => evaluate(expr, rowsOf.get(r.id)!)).map((r) => r.id);
}

beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  await conn.run(`CREATE TABLE t (
    id INTEGER, service_name VARCHAR, name VARCHAR, duration_ns BIGINT, start_time TIMESTAMP_NS, status_code VARCHAR,
    http_response_status_code INTEGER, is_root BOOLEAN, score DOUBLE, attributes MAP(VARCHAR, VARCHAR))`);
  await conn.run(insertSql(corpus));
});

afterAll(() => {
  conn?.closeSync();
  instance?.closeSync();
});

describe('filter vs DuckDB', () => {
  it('the DuckDB table holds exactly the JavaScript corpus', async () => {
    const reader = await conn.runAndReadAll(
      'SELECT * EXCLUDE (start_time, attributes), epoch_ns(start_time) AS start_time, map_entries(attributes) AS attributes FROM t ORDER BY id',
    );
    const back = reader.getRowObjectsJS().map((r) => ({
      ...r,
      attributes: r['attributes'] === null ? null : Object.fromEntries((r['attributes'] as { key: string; value: string | null }[]).map((e) => [e.key, e.value])),
    }));
    expect(back).toEqual(corpus);
  });

  it('covers enough filters, most of them selective', async () => {
    expect(FILTERS.length).toBeGreaterThanOrEqual(60);
    const selective = FILTERS.filter(([text]) => {
      const n = jsIds(parseFilter(text, catalog)).length;
      return n > 0 && n < ROWS;
    });
    expect(selective.length).toBeGreaterThanOrEqual(FILTERS.length - 5);
  });

  it.each(FILTERS)('%s', async (text, verbatim) => {
    const expr = parseFilter(text, catalog);
    const ours = jsIds(expr);
    expect(ours).toEqual(await duckIds(toSql(expr)));
    if (verbatim) expect(ours).toEqual(await duckIds(text));
  });
});

// ---- pruning ----------------------------------------------------------------------------

const utf8Compare = (a: string, b: string): number => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

function sortKey(col: keyof CorpusRow): (a: CorpusRow, b: CorpusRow) => number {
  return (a, b) => {
    const x = a[col];
    const y = b[col];
    if (x === null || y === null) return x === y ? a.id - b.id : x === null ? 1 : -1;
    if (typeof x === 'string') return utf8Compare(x, y as string) || a.id - b.id;
    if (typeof x === 'number' && Number.isNaN(x)) return Number.isNaN(y as number) ? 0 : 1;
    if (typeof y === 'number' && Number.isNaN(y)) return -1;
    return x < (y as typeof x) ? -1 : x > (y as typeof x) ? 1 : a.id - b.id;
  };
}

/**
 * Statistics as a Parquet writer would record them: min/max over non-null values (NaN left
 * out), null count, row count. Shapes alternate per chunk (string/bytes, bigint/number,
 * bigint/Date, nanCount given/absent) to cover every accepted form.
 */
function chunkStats(rows: readonly CorpusRow[], index: number): (c: string) => ColumnStats | undefined {
  const alt = index % 2 === 1;
  return (c) => {
    const type = catalog.get(c);
    if (type === undefined || type === 'map') return undefined;
    const key = c as keyof CorpusRow;
    const all = rows.map((r) => r[key]);
    const values = all.filter((v) => v !== null && !(typeof v === 'number' && Number.isNaN(v)));
    const nulls = all.length - all.filter((v) => v !== null).length;
    const nans = all.filter((v) => typeof v === 'number' && Number.isNaN(v)).length;
    const sorted = [...values].sort((a, b) => (typeof a === 'string' ? utf8Compare(a, b as string) : a! < b! ? -1 : a! > b! ? 1 : 0));
    const shape = (v: unknown): unknown => {
      if (v === undefined || !alt) return v;
      if (typeof v === 'string') return Buffer.from(v, 'utf8');
      if (typeof v === 'bigint' && type === 'timestamp') return new Date(Number(v / 1_000_000n));
      if (typeof v === 'bigint' && Number.isSafeInteger(Number(v))) return Number(v);
      return v;
    };
    const stats: ColumnStats = {
      min: shape(sorted[0]),
      max: shape(sorted[sorted.length - 1]),
      nullCount: alt ? nulls : BigInt(nulls),
      rowCount: alt ? BigInt(rows.length) : rows.length,
    };
    if (type === 'float' && !alt) stats.nanCount = nans;
    return stats;
  };
}

function chunks(order: keyof CorpusRow | null, size: number): CorpusRow[][] {
  const rows = order === null ? corpus : [...corpus].sort(sortKey(order));
  const out: CorpusRow[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/** Chunks pruned by `mightMatch`, asserting that none of them holds a matching row. */
function prunedChunks(expr: Expr, chunking: CorpusRow[][]): number {
  let pruned = 0;
  chunking.forEach((chunk, i) => {
    if (mightMatch(expr, chunkStats(chunk, i))) return;
    pruned++;
    expect(jsIds(expr, chunk), `chunk ${i} pruned but matches ${toSql(expr)}`).toEqual([]);
  });
  return pruned;
}

const CHUNKINGS: [string, CorpusRow[][]][] = [
  ['natural order, 100 rows', chunks(null, 100)],
  ['by duration_ns', chunks('duration_ns', 100)],
  ['by start_time', chunks('start_time', 100)],
  ['by service_name', chunks('service_name', 100)],
  ['by name', chunks('name', 100)],
  ['by score', chunks('score', 100)],
  ['by http_response_status_code', chunks('http_response_status_code', 100)],
  ['by is_root', chunks('is_root', 100)],
  ['natural order, 3 rows', chunks(null, 3)],
  ['one row each', chunks(null, 1)],
];

describe('mightMatch against the corpus', () => {
  it.each(CHUNKINGS)('never prunes a chunk with a match (%s)', (_name, chunking) => {
    let pruned = 0;
    for (const [text] of FILTERS) pruned += prunedChunks(parseFilter(text, catalog), chunking);
    expect(pruned).toBeGreaterThan(0);
  });

  it('prunes chunks for selective filters on sorted data', () => {
    const durations = corpus.flatMap((r) => (r.duration_ns === null ? [] : [r.duration_ns])).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const nearMax = durations[durations.length - 150]!;
    const byName = Object.fromEntries(CHUNKINGS);
    const cases: [string, string, number][] = [
      [`duration_ns > ${nearMax}`, 'by duration_ns', 18],
      [`NOT duration_ns <= ${nearMax}`, 'by duration_ns', 18],
      [`duration_ns IN (1000, ${nearMax})`, 'by duration_ns', 15],
      ["start_time < '2024-01-01T00:05:00Z'", 'by start_time', 15],
      ["start_time >= '2024-01-01T00:50:00Z' AND start_time < '2024-01-01T00:55:00Z'", 'by start_time', 15],
      ["service_name = 'cart'", 'by service_name', 10],
      ["service_name LIKE 'ca%'", 'by service_name', 10],
      ["name LIKE 'GET%'", 'by name', 10],
      ["NOT name LIKE 'GET /api/%' OR name = 'x'", 'by name', 1],
      ['http_response_status_code IS NULL', 'by http_response_status_code', 15],
      ['http_response_status_code IS NOT NULL', 'by http_response_status_code', 1],
      ['http_response_status_code != 200', 'by http_response_status_code', 1],
      ['score < 0.5', 'by score', 15],
      ['is_root', 'by is_root', 10],
    ];
    const report: string[] = [];
    for (const [text, chunking, atLeast] of cases) {
      const pruned = prunedChunks(parseFilter(text, catalog), byName[chunking]!);
      report.push(`${pruned}/${byName[chunking]!.length} pruned: ${text} (${chunking})`);
      expect(pruned, text).toBeGreaterThanOrEqual(atLeast);
    }
    console.log(report.join('\n'));
  });
});
