import { describe, expect, it } from 'vitest';
import { S3ParquetError } from '../../src/errors.js';
import {
  FilterError,
  columnsOf,
  evaluate,
  mightMatch,
  parseFilter,
  toSql,
  type ColumnCatalog,
  type ColumnStats,
  type Expr,
} from '../../src/query/filter/index.js';
import { parseTimestampNs, formatTimestampNs } from '../../src/time/timestamp.js';
import { compareStrings, likeMatch } from '../../src/query/filter/values.js';
import { exactInteger } from '../../src/query/filter/literals.js';

const catalog: ColumnCatalog = new Map([
  ['service_name', 'string'],
  ['name', 'string'],
  ['duration_ns', 'int'],
  ['start_time', 'timestamp'],
  ['timestamp', 'timestamp'],
  ['http_response_status_code', 'int'],
  ['is_root', 'bool'],
  ['score', 'float'],
  ['attributes', 'map'],
  ['weird col', 'string'],
  ['a"b', 'int'],
]);

const p = (text: string): Expr => parseFilter(text, catalog);

const col = (name: string, key?: string) => {
  const type = catalog.get(name)!;
  return key === undefined ? { name, type } : { name, key, type: 'string' as const };
};

/** Runs `fn`, expecting a FilterError, and returns it. */
function filterError(text: string): FilterError {
  try {
    p(text);
  } catch (err) {
    expect(err).toBeInstanceOf(FilterError);
    return err as FilterError;
  }
  throw new Error(`expected a FilterError for ${text}`);
}

const NS_2024 = 1_704_067_200_000_000_000n; // 2024-01-01T00:00:00Z

describe('parseFilter: constructs', () => {
  it('comparisons with every operator, <> as !=', () => {
    for (const op of ['=', '!=', '<', '<=', '>', '>='] as const) {
      expect(p(`duration_ns ${op} 5`)).toEqual({ kind: 'cmp', op, column: col('duration_ns'), value: 5n });
    }
    expect(p("name <> 'x'")).toEqual({ kind: 'cmp', op: '!=', column: col('name'), value: 'x' });
  });

  it('literals: strings with quote escapes, numbers, booleans', () => {
    expect(p("name = 'it''s'")).toMatchObject({ value: "it's" });
    expect(p("name = ''")).toMatchObject({ value: '' });
    expect(p('duration_ns = -42')).toMatchObject({ value: -42n });
    expect(p('duration_ns = - 42')).toMatchObject({ value: -42n });
    expect(p('duration_ns >= 1.5e6')).toMatchObject({ value: 1_500_000n });
    expect(p('duration_ns >= 15E+5')).toMatchObject({ value: 1_500_000n });
    expect(p('duration_ns > 2.5')).toMatchObject({ value: 2.5 });
    expect(p('duration_ns = 9007199254740993')).toMatchObject({ value: 9007199254740993n });
    expect(p('score > 3')).toMatchObject({ value: 3 });
    expect(p('score > .5')).toMatchObject({ value: 0.5 });
    expect(p('score > -1.25e-3')).toMatchObject({ value: -0.00125 });
    expect(p('is_root = TRUE')).toMatchObject({ value: true });
    expect(p('is_root != false')).toMatchObject({ op: '!=', value: false });
  });

  it('a literal on the left flips the operator', () => {
    expect(p('5 < duration_ns')).toEqual(p('duration_ns > 5'));
    expect(p('5 >= duration_ns')).toEqual(p('duration_ns <= 5'));
    expect(p("'x' = name")).toEqual(p("name = 'x'"));
    expect(p('TRUE = is_root')).toEqual(p('is_root = TRUE'));
    expect(p("TIMESTAMP '2024-01-01' <= start_time")).toEqual(p("start_time >= '2024-01-01'"));
  });

  it('IN, NOT IN, LIKE, NOT LIKE, IS [NOT] NULL', () => {
    expect(p('http_response_status_code IN (200, 204)')).toEqual({
      kind: 'in',
      not: false,
      column: col('http_response_status_code'),
      values: [200n, 204n],
    });
    expect(p("name NOT IN ('a')")).toEqual({ kind: 'in', not: true, column: col('name'), values: ['a'] });
    expect(p("name LIKE 'GET %'")).toEqual({ kind: 'like', not: false, column: col('name'), pattern: 'GET %' });
    expect(p("name NOT LIKE '_x'")).toEqual({ kind: 'like', not: true, column: col('name'), pattern: '_x' });
    expect(p('score IS NULL')).toEqual({ kind: 'isnull', not: false, column: col('score') });
    expect(p('score IS NOT NULL')).toEqual({ kind: 'isnull', not: true, column: col('score') });
    expect(p('attributes IS NULL')).toEqual({ kind: 'isnull', not: false, column: col('attributes') });
  });

  it('map access, quoted identifiers, bare bool columns, TRUE/FALSE', () => {
    expect(p("attributes['http.request.method'] = 'GET'")).toEqual({
      kind: 'cmp',
      op: '=',
      column: { name: 'attributes', key: 'http.request.method', type: 'string' },
      value: 'GET',
    });
    expect(p(`"attributes"['it''s'] LIKE 'a%'`)).toMatchObject({ column: { name: 'attributes', key: "it's" } });
    expect(p(`"service_name" = 'x'`)).toEqual(p("service_name = 'x'"));
    expect(p(`"weird col" = 'x'`)).toMatchObject({ column: { name: 'weird col' } });
    expect(p(`"a""b" = 1`)).toMatchObject({ column: { name: 'a"b' }, value: 1n });
    expect(p('is_root')).toEqual(p('is_root = TRUE'));
    expect(p('NOT is_root AND (is_root)')).toEqual(p('NOT is_root = TRUE AND is_root = TRUE'));
    expect(p('TRUE')).toEqual({ kind: 'const', value: true });
    expect(p('false OR is_root')).toEqual({ kind: 'or', left: { kind: 'const', value: false }, right: p('is_root') });
  });

  it('timestamps: TIMESTAMP literals and RFC 3339 strings against timestamp columns', () => {
    expect(p("start_time >= TIMESTAMP '2024-01-01T00:00:00Z'")).toMatchObject({ value: NS_2024 });
    expect(p("start_time >= '2024-01-01T00:00:00Z'")).toMatchObject({ value: NS_2024 });
    expect(p("start_time >= '2024-01-01'")).toMatchObject({ value: NS_2024 });
    expect(p("start_time >= '2024-01-01T02:00:00.000000001+02:00'")).toMatchObject({ value: NS_2024 + 1n });
    expect(p("start_time < timestamp '2023-12-31 23:30:00-00:30'")).toMatchObject({ value: NS_2024 });
    // `timestamp` without a string after it is a column name.
    expect(p("timestamp > '2024-01-01'")).toMatchObject({ column: col('timestamp'), value: NS_2024 });
    expect(p("timestamp IN ('2024-01-01', TIMESTAMP '2024-01-01T00:00:00.5Z')")).toMatchObject({
      values: [NS_2024, NS_2024 + 500_000_000n],
    });
  });

  it('precedence: NOT > AND > OR; comparisons bind tighter than NOT', () => {
    const a = p('duration_ns = 1');
    const b = p('duration_ns = 2');
    const c = p('duration_ns = 3');
    expect(p('duration_ns = 1 OR duration_ns = 2 AND duration_ns = 3')).toEqual({ kind: 'or', left: a, right: { kind: 'and', left: b, right: c } });
    expect(p('duration_ns = 1 AND duration_ns = 2 OR duration_ns = 3')).toEqual({ kind: 'or', left: { kind: 'and', left: a, right: b }, right: c });
    expect(p('NOT duration_ns = 1 AND duration_ns = 2')).toEqual({ kind: 'and', left: { kind: 'not', expr: a }, right: b });
    expect(p('NOT duration_ns = 1 OR duration_ns = 2')).toEqual({ kind: 'or', left: { kind: 'not', expr: a }, right: b });
    expect(p('NOT (duration_ns = 1 OR duration_ns = 2)')).toEqual({ kind: 'not', expr: { kind: 'or', left: a, right: b } });
    expect(p('NOT NOT duration_ns = 1')).toEqual({ kind: 'not', expr: { kind: 'not', expr: a } });
    expect(p('(duration_ns = 1 OR duration_ns = 2) AND duration_ns = 3')).toEqual({ kind: 'and', left: { kind: 'or', left: a, right: b }, right: c });
    // AND and OR are left-associative.
    expect(p('duration_ns = 1 OR duration_ns = 2 OR duration_ns = 3')).toEqual({ kind: 'or', left: { kind: 'or', left: a, right: b }, right: c });
  });

  it('keywords are case-insensitive; whitespace is free', () => {
    expect(p("name not in ('a') and score is not null")).toEqual(
      p("name NOT IN ('a') AND score IS NOT NULL"),
    );
    expect(p("name Like 'a%' oR Not is_root = True")).toEqual(p("name LIKE 'a%' OR NOT is_root = TRUE"));
    expect(p("\n\tname\n=\n'a'\n")).toEqual(p("name = 'a'"));
    expect(p("start_time > TimeStamp '2024-01-01'")).toMatchObject({ value: NS_2024 });
  });

  it('columnsOf lists top-level columns (the map column for map access)', () => {
    expect(columnsOf(p("attributes['k'] = 'v' OR NOT (duration_ns > 1 AND name LIKE 'x') OR TRUE"))).toEqual(
      new Set(['attributes', 'duration_ns', 'name']),
    );
  });
});

describe('parseFilter: errors', () => {
  const cases: [text: string, position: number, message: string][] = [
    ['duration_ns = ', 14, "filter: at position 14: expected a value after '=' but found end of input"],
    ["name = 'abc", 7, "filter: at position 7: unterminated string literal (no closing ')"],
    ['"name = 1', 0, 'filter: at position 0: unterminated quoted identifier (no closing ")'],
    ['(duration_ns = 1 OR is_root', 27, "filter: at position 27: expected ')' to close the '(' at position 0 after \"is_root\" but found end of input"],
    ["name = 'a' 'b'", 11, "filter: at position 11: expected AND, OR or end of input after string 'a' but found string 'b'"],
    ['duration_ns = 1 AND', 19, 'filter: at position 19: expected a condition after AND but found end of input'],
    ['duration_ns 5', 12, 'filter: at position 12: expected an operator (=, !=, <>, <, <=, >, >=, IN, NOT IN, LIKE, NOT LIKE, IS NULL, IS NOT NULL) after "duration_ns" but found number 5'],
    ['name NOT = 1', 9, "filter: at position 9: expected IN or LIKE after NOT but found '='"],
    ['score IS 1', 9, 'filter: at position 9: expected NULL after IS but found number 1'],
    ['duration_ns == 1', 13, "filter: at position 13: expected a value after '=' but found '='"],
    ['duration_ns = 1 # x', 16, "filter: at position 16: unexpected character '#'"],
    ['duration_ns = 12ab', 14, "filter: at position 14: invalid number '12a'"],
    ['duration_ns = -x', 15, `filter: at position 15: expected a number after '-' but found "x"`],
    ['duration_ns IN ()', 16, 'filter: at position 16: IN needs at least one value'],
    ['duration_ns IN (1 2)', 18, "filter: at position 18: expected ',' or ')' in the IN list after number 1 but found number 2"],
    ['duration_ns IN 1', 15, "filter: at position 15: expected '(' to start the IN list after IN but found number 1"],
    ["duration_ns = 'abc'", 14, `filter: at position 14: cannot compare int column "duration_ns" with string 'abc'`],
    ['name = 5', 7, `filter: at position 7: cannot compare string column "name" with number 5 (quote it: '5')`],
    ['is_root = 1', 10, 'filter: at position 10: cannot compare bool column "is_root" with number 1 (use TRUE or FALSE)'],
    ["name = TIMESTAMP '2024-01-01'", 7, `filter: at position 7: cannot compare string column "name" with timestamp TIMESTAMP '2024-01-01'`],
    ['start_time > 5', 13, `filter: at position 13: cannot compare timestamp column "start_time" with number 5 (write TIMESTAMP '2024-01-01T00:00:00Z' or an RFC 3339 string)`],
    ["duration_ns IN (1, 'x')", 19, `filter: at position 19: cannot compare int column "duration_ns" with string 'x'`],
    ["duration_ns LIKE '1%'", 12, 'filter: at position 12: LIKE needs a string column, but "duration_ns" is int'],
    ['name LIKE 5', 10, 'filter: at position 10: expected a quoted pattern after LIKE but found number 5'],
    ["name['k'] = 'v'", 4, `filter: at position 4: column "name" is string, not a map: only map columns take ['key']`],
    ["attributes = 'v'", 0, `filter: at position 0: map column "attributes" needs a key, e.g. attributes['key'] (only IS NULL applies to the whole map)`],
    ["attributes[1] = 'v'", 11, "filter: at position 11: expected a quoted key such as 'http.request.method' after '[' but found number 1"],
    ["attributes['k' = 'v'", 15, "filter: at position 15: expected ']' after string 'k' but found '='"],
    ['score = NULL', 8, 'filter: at position 8: cannot compare with NULL (the result is never true); use "score" IS NULL or IS NOT NULL'],
    ['name IN (NULL)', 9, 'filter: at position 9: cannot compare with NULL (the result is never true); use "name" IS NULL or IS NOT NULL'],
    ['score > 1e999', 8, 'filter: at position 8: number 1e999 is out of range'],
    ['', 0, 'filter: at position 0: expected a condition but found end of input'],
    [')', 0, "filter: at position 0: expected a condition but found ')'"],
    ['5 AND is_root', 2, 'filter: at position 2: expected a comparison operator after number 5 but found AND'],
    ['""', 0, 'filter: at position 0: empty quoted identifier ""'],
    ['NOT', 3, 'filter: at position 3: expected a condition after NOT but found end of input'],
    ['duration_ns IN (1,)', 18, "filter: at position 18: expected a value after ',' but found ')'"],
    ['NULL = score', 0, 'filter: at position 0: cannot compare with NULL (the result is never true); use "score" IS NULL or IS NOT NULL'],
    ["is_root 'x'", 8, `filter: at position 8: expected an operator (=, !=, <>, <, <=, >, >=, IN, NOT IN, LIKE, NOT LIKE, IS NULL, IS NOT NULL) after "is_root" but found string 'x'`],
  ];
  it.each(cases)('%s', (text, position, message) => {
    const err = filterError(text);
    expect(err.message).toBe(message);
    expect(err.position).toBe(position);
  });

  it('unknown columns name the column, its position and a suggestion', () => {
    const err = filterError("name = 'a' AND duraton_ns > 5");
    expect(err.position).toBe(15);
    expect(err.message).toBe(
      'filter: unknown column "duraton_ns" at position 15 (did you mean "duration_ns"? known: service_name, name, duration_ns, start_time, timestamp, http_response_status_code, is_root, score, …)',
    );
    expect(filterError('zzz = 1').message).toMatch(/^filter: unknown column "zzz" at position 0 \(known: service_name, /);
    // Catalog lookups are exact: a differently-cased name is unknown but suggested.
    expect(filterError('Name = 1').message).toContain('did you mean "name"?');
  });

  it('bad timestamps', () => {
    for (const bad of ['2024-02-30', '2023-02-29', '2024-13-01', '2024-01-01T00:00:00', '2024-01-01T24:00:00Z', '2024-01-01T00:60:00Z',
      '2024-01-01T00:00:60Z', '2024-01-01T00:00:00.1234567890Z', '2024-01-01T00:00:00+24:00', '2024-1-01', 'yesterday', '']) {
      const err = filterError(`start_time > '${bad}'`);
      expect(err.position).toBe(13);
      expect(err.message).toContain(`invalid timestamp '${bad}': expected RFC 3339`);
    }
    expect(filterError("start_time > TIMESTAMP 'x'").message).toContain("at position 13: invalid timestamp TIMESTAMP 'x'");
  });

  it('is an S3ParquetError with code INVALID_ARGUMENT (HTTP 400)', () => {
    const err = filterError('nope = 1');
    expect(err).toBeInstanceOf(S3ParquetError);
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.httpStatus).toBe(400);
    expect(err.name).toBe('FilterError');
  });
});

describe('timestamps, strings, LIKE helpers', () => {
  it('parses RFC 3339 exactly and formats back', () => {
    expect(parseTimestampNs('1970-01-01T00:00:00Z')).toBe(0n);
    expect(parseTimestampNs('1969-12-31T23:59:59.999999999Z')).toBe(-1n);
    expect(parseTimestampNs('2024-02-29T12:34:56.789+05:30')).toBe(BigInt(Date.parse('2024-02-29T12:34:56.789+05:30')) * 1_000_000n);
    expect(parseTimestampNs('2000-03-01t00:00:00z')).toBe(BigInt(Date.UTC(2000, 2, 1)) * 1_000_000n);
    expect(formatTimestampNs(-1n)).toBe('1969-12-31 23:59:59.999999999');
    expect(formatTimestampNs(NS_2024 + 500_000_000n)).toBe('2024-01-01 00:00:00.5');
    // Deterministic walk over years 0001–9999, with odd nanosecond parts.
    const first = -62_135_596_800_000n * 1_000_000n;
    const span = 315_537_897_599_999n * 1_000_000n;
    for (let i = 0n; i < 500n; i++) {
      const ns = first + ((span * i) / 499n + i * 7_919n) % span;
      expect(parseTimestampNs(formatTimestampNs(ns)!.replace(' ', 'T') + 'Z')).toBe(ns);
    }
  });

  it('compares strings by code point (UTF-8 byte order)', () => {
    const strings = ['', 'a', 'ab', 'B', 'é', '\uE000', '😀', '\uFFFF', 'a😀', 'a\uE000'];
    for (const a of strings) {
      for (const b of strings) {
        expect(Math.sign(compareStrings(a, b))).toBe(Math.sign(Buffer.compare(Buffer.from(a), Buffer.from(b))));
      }
    }
  });

  it('LIKE: % any run, _ one code point, everything else literal', () => {
    expect(likeMatch('GET /x', 'GET %')).toBe(true);
    expect(likeMatch('abc', 'a_c')).toBe(true);
    expect(likeMatch('a😀c', 'a_c')).toBe(true);
    expect(likeMatch('ac', 'a_c')).toBe(false);
    expect(likeMatch('abc', '%')).toBe(true);
    expect(likeMatch('', '%')).toBe(true);
    expect(likeMatch('', '_')).toBe(false);
    expect(likeMatch('ABC', 'abc')).toBe(false);
    expect(likeMatch('a.c', 'a.c')).toBe(true);
    expect(likeMatch('abc', 'a.c')).toBe(false);
    expect(likeMatch('a\\c', 'a\\c')).toBe(true);
    expect(likeMatch('xaaab', '%a%b')).toBe(true);
    expect(likeMatch('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', '%a%a%a%a%a%a%a%a%b')).toBe(false);
  });

  it('exactInteger is exact on decimal text', () => {
    expect(exactInteger('1.5e6')).toBe(1_500_000n);
    expect(exactInteger('-0.0')).toBe(0n);
    expect(exactInteger('12.50e1')).toBe(125n);
    expect(exactInteger('2.5')).toBeUndefined();
    expect(exactInteger('1e-1')).toBeUndefined();
  });
});

describe('evaluate', () => {
  const row = (values: Record<string, unknown>) => (c: string) => values[c];
  const ev = (text: string, values: Record<string, unknown>) => evaluate(p(text), row(values));

  it('uses three-valued logic: NULL comparisons are UNKNOWN, and NOT UNKNOWN is UNKNOWN', () => {
    const nul = { duration_ns: null };
    expect(ev('duration_ns = 1', nul)).toBe(false);
    expect(ev('duration_ns != 1', nul)).toBe(false);
    expect(ev('NOT duration_ns = 1', nul)).toBe(false);
    expect(ev('NOT (duration_ns = 1 AND FALSE)', nul)).toBe(true); // UNKNOWN AND FALSE = FALSE
    expect(ev('NOT (duration_ns = 1 OR TRUE)', nul)).toBe(false);
    expect(ev('duration_ns = 1 OR TRUE', nul)).toBe(true);
    expect(ev('NOT (duration_ns = 1 AND TRUE)', nul)).toBe(false); // UNKNOWN
    expect(ev('duration_ns IN (1, 2)', nul)).toBe(false);
    expect(ev('duration_ns NOT IN (1, 2)', nul)).toBe(false);
    expect(ev('duration_ns IS NULL', nul)).toBe(true);
    expect(ev('NOT duration_ns IS NOT NULL', nul)).toBe(true);
    expect(ev("name NOT LIKE 'x%'", { name: undefined })).toBe(false);
  });

  it('compares ints exactly whether they arrive as number or bigint', () => {
    expect(ev('duration_ns = 9007199254740993', { duration_ns: 9007199254740993n })).toBe(true);
    expect(ev('duration_ns = 9007199254740993', { duration_ns: 9007199254740992 })).toBe(false);
    expect(ev('duration_ns = 5', { duration_ns: 5 })).toBe(true);
    expect(ev('duration_ns IN (4, 5)', { duration_ns: 5 })).toBe(true);
    expect(ev('duration_ns > 2.5', { duration_ns: 3n })).toBe(true);
    expect(ev('duration_ns < 2.5', { duration_ns: 3 })).toBe(false);
    expect(ev('duration_ns >= 1.5e6', { duration_ns: 1_500_000n })).toBe(true);
    expect(ev('score > 3', { score: 3.5 })).toBe(true);
    expect(ev('score = 3', { score: 3 })).toBe(true);
  });

  it('NaN equals NaN and sorts above every number, as in DuckDB', () => {
    expect(ev('score > 1e300', { score: Number.NaN })).toBe(true);
    expect(ev('score != 1', { score: Number.NaN })).toBe(true);
    expect(ev('NOT score < 1', { score: Number.NaN })).toBe(true);
  });

  it('timestamps as bigint ns or Date', () => {
    expect(ev("start_time = '2024-01-01T00:00:00.000000001Z'", { start_time: NS_2024 + 1n })).toBe(true);
    expect(ev("start_time = '2024-01-01T00:00:00.001Z'", { start_time: new Date('2024-01-01T00:00:00.001Z') })).toBe(true);
    expect(ev("start_time < '2024-01-01'", { start_time: new Date('2023-12-31T23:59:59.999Z') })).toBe(true);
  });

  it('maps as Map or Record; a missing key or a NULL value is NULL', () => {
    for (const attributes of [new Map([['k', 'v'], ['n', null]]), { k: 'v', n: null }]) {
      expect(ev("attributes['k'] = 'v'", { attributes })).toBe(true);
      expect(ev("attributes['k'] LIKE '_'", { attributes })).toBe(true);
      expect(ev("attributes['missing'] IS NULL", { attributes })).toBe(true);
      expect(ev("attributes['missing'] != 'v'", { attributes })).toBe(false);
      expect(ev("attributes['n'] IS NULL", { attributes })).toBe(true);
      expect(ev("attributes['toString'] IS NULL", { attributes })).toBe(true);
      expect(ev('attributes IS NOT NULL', { attributes })).toBe(true);
    }
    expect(ev("attributes['k'] IS NULL", { attributes: null })).toBe(true);
    expect(ev('attributes IS NULL', {})).toBe(true);
  });

  it('strings order by code point; LIKE is case-sensitive', () => {
    expect(ev("name > '\uFFFF'", { name: '😀' })).toBe(true);
    expect(ev("name LIKE 'get%'", { name: 'GET /' })).toBe(false);
  });

  it('throws INTERNAL for values of the wrong JavaScript type', () => {
    const bad: [string, Record<string, unknown>][] = [
      ["name = 'x'", { name: 5 }],
      ["start_time > '2024-01-01'", { start_time: 1_704_067_200_000 }],
      ['is_root', { is_root: 'true' }],
      ["attributes['k'] = 'v'", { attributes: 'k=v' }],
      ["attributes['k'] = 'v'", { attributes: { k: 1 } }],
    ];
    for (const [text, values] of bad) {
      try {
        ev(text, values);
        throw new Error(`no error for ${text}`);
      } catch (err) {
        expect(err).toBeInstanceOf(S3ParquetError);
        expect((err as S3ParquetError).code).toBe('INTERNAL');
      }
    }
  });
});

describe('mightMatch', () => {
  const stats = (s: Record<string, ColumnStats>) => (c: string) => s[c];
  const chunk = (st: ColumnStats) => stats({ duration_ns: st, name: st, score: st, start_time: st, is_root: st });
  const mm = (text: string, st: ColumnStats) => mightMatch(p(text), chunk(st));
  const ints: ColumnStats = { min: 10n, max: 20, nullCount: 0, rowCount: 100n };

  it('ranges prune comparisons', () => {
    expect(mm('duration_ns = 5', ints)).toBe(false);
    expect(mm('duration_ns = 21', ints)).toBe(false);
    expect(mm('duration_ns = 15', ints)).toBe(true);
    expect(mm('duration_ns < 10', ints)).toBe(false);
    expect(mm('duration_ns <= 10', ints)).toBe(true);
    expect(mm('duration_ns > 20', ints)).toBe(false);
    expect(mm('duration_ns >= 20', ints)).toBe(true);
    expect(mm('duration_ns > 19.5', ints)).toBe(true);
    expect(mm('duration_ns > 20.5', ints)).toBe(false);
    expect(mm('duration_ns != 15', ints)).toBe(true);
    expect(mm('duration_ns != 15', { min: 15, max: 15, rowCount: 3 })).toBe(false);
    expect(mm('duration_ns IN (1, 30)', ints)).toBe(false);
    expect(mm('duration_ns IN (1, 12)', ints)).toBe(true);
    expect(mm('duration_ns NOT IN (15, 1)', { min: 15n, max: 15n, nullCount: 2, rowCount: 3 })).toBe(false);
    expect(mm('duration_ns NOT IN (15, 1)', ints)).toBe(true);
  });

  it('NOT pushes down with flipped operators and De Morgan', () => {
    expect(mm('NOT duration_ns <= 20', ints)).toBe(false);
    expect(mm('NOT duration_ns < 20', ints)).toBe(true);
    expect(mm('NOT (duration_ns > 5 AND duration_ns < 30)', ints)).toBe(false);
    expect(mm('NOT (duration_ns > 5 OR duration_ns = 50)', ints)).toBe(false);
    expect(mm('NOT (duration_ns > 15 OR duration_ns = 50)', ints)).toBe(true);
    expect(mm('NOT NOT duration_ns = 5', ints)).toBe(false);
    expect(mm('NOT duration_ns != 15', ints)).toBe(true);
    expect(mm('NOT duration_ns != 5', ints)).toBe(false);
    expect(mm('NOT duration_ns IN (1, 2)', ints)).toBe(true);
    expect(mm('NOT duration_ns IS NOT NULL', ints)).toBe(false);
    expect(mm('NOT TRUE', ints)).toBe(false);
    expect(mm('duration_ns = 5 OR duration_ns = 15', ints)).toBe(true);
    expect(mm('duration_ns = 5 OR duration_ns = 25', ints)).toBe(false);
    expect(mm('duration_ns = 5 AND duration_ns = 15', ints)).toBe(false);
  });

  it('null counts', () => {
    expect(mm('duration_ns IS NULL', ints)).toBe(false);
    expect(mm('duration_ns IS NULL', { ...ints, nullCount: 1 })).toBe(true);
    expect(mm('duration_ns IS NULL', { min: 10n, max: 20n, rowCount: 100 })).toBe(true);
    const allNull: ColumnStats = { nullCount: 100, rowCount: 100n };
    expect(mm('duration_ns IS NOT NULL', allNull)).toBe(false);
    expect(mm('duration_ns != 1', allNull)).toBe(false);
    expect(mm('NOT duration_ns = 1', allNull)).toBe(false);
    expect(mm("name NOT LIKE 'x'", allNull)).toBe(false);
    expect(mm('duration_ns IS NULL', allNull)).toBe(true);
    expect(mm('duration_ns IS NULL', { rowCount: 0 })).toBe(false);
  });

  it('strings compare by UTF-8 bytes; LIKE prunes by literal prefix', () => {
    const names: ColumnStats = { min: 'GET /a', max: 'GET /z', nullCount: 0, rowCount: 10 };
    expect(mm("name LIKE 'POST%'", names)).toBe(false);
    expect(mm("name LIKE 'GET%'", names)).toBe(true);
    expect(mm("name LIKE 'A%'", names)).toBe(false);
    expect(mm("name LIKE 'GET /b_c%'", names)).toBe(true);
    expect(mm("name LIKE '%POST'", names)).toBe(true);
    expect(mm("name LIKE 'GET /zz'", names)).toBe(false);
    expect(mm("name NOT LIKE 'GET %'", names)).toBe(false);
    expect(mm("name NOT LIKE 'GET /%'", names)).toBe(false);
    expect(mm("name NOT LIKE 'GET /a%'", names)).toBe(true);
    expect(mm("name NOT LIKE 'GET _%'", names)).toBe(true);
    expect(mm("name NOT LIKE '%'", names)).toBe(false);
    expect(mm("name > '\uFFFF'", { min: 'a', max: '😀', rowCount: 1 })).toBe(true);
    expect(mm("name > '😀'", { min: 'a', max: '\uFFFF', rowCount: 1 })).toBe(false);
    expect(mm("name = 'b'", { min: Buffer.from('a'), max: new Uint8Array([0x61, 0x61]), rowCount: 1 })).toBe(false);
  });

  it('floats: NaN may hide above max unless nanCount is 0', () => {
    const floats: ColumnStats = { min: 1.5, max: 2.5, nullCount: 0, rowCount: 10 };
    expect(mm('score > 3', floats)).toBe(true);
    expect(mm('score > 3', { ...floats, nanCount: 0 })).toBe(false);
    expect(mm('score < 1', floats)).toBe(false);
    expect(mm('NOT score >= 1', floats)).toBe(false);
  });

  it('timestamps as bigint or Date (widened by a millisecond)', () => {
    const ts: ColumnStats = { min: NS_2024, max: NS_2024 + 10n, rowCount: 5 };
    expect(mm("start_time < '2024-01-01'", ts)).toBe(false);
    expect(mm("start_time > '2024-01-01T00:00:00.00000001Z'", ts)).toBe(false);
    expect(mm("start_time > '2024-01-01T00:00:00.000000009Z'", ts)).toBe(true);
    const dates: ColumnStats = { min: new Date('2024-01-01T00:00:00Z'), max: new Date('2024-01-01T00:00:00.005Z'), rowCount: 5 };
    expect(mm("start_time > '2024-01-01T00:00:00.0059Z'", dates)).toBe(true);
    expect(mm("start_time > '2024-01-01T00:00:00.006Z'", dates)).toBe(false);
    expect(mm("start_time < '2023-12-31T23:59:59.9995Z'", dates)).toBe(true);
  });

  it('is conservative with unknown or unusable statistics and map access', () => {
    expect(mightMatch(p('duration_ns = 5'), () => undefined)).toBe(true);
    expect(mm('duration_ns = 5', { min: 1.5, max: '20', rowCount: 10 })).toBe(true);
    expect(mm('duration_ns = 5', { min: 2 ** 60, max: 2 ** 61, rowCount: 10 })).toBe(true);
    expect(mm("start_time = '2024-01-01'", { min: 0, max: 1, rowCount: 10 })).toBe(true);
    expect(mightMatch(p("attributes['k'] = 'v'"), () => ({ min: 'x', max: 'y', nullCount: 1, rowCount: 1 }))).toBe(true);
    expect(mightMatch(p('FALSE'), () => undefined)).toBe(false);
    expect(mm('is_root', { min: false, max: false, rowCount: 3 })).toBe(false);
    expect(mm('NOT is_root', { min: true, max: true, rowCount: 3 })).toBe(false);
  });
});

describe('toSql', () => {
  it('renders DuckDB SQL', () => {
    expect(toSql(p("attributes['it''s'] = 'a''b' AND NOT (score > 0.1 OR duration_ns IN (1, -2))"))).toBe(
      "(attributes['it''s'] = 'a''b' AND (NOT (score > 0.1e0 OR duration_ns IN (1, -2))))",
    );
    expect(toSql(p("start_time >= '2024-01-01T00:00:00.5Z'"))).toBe("start_time >= TIMESTAMP_NS '2024-01-01 00:00:00.5'");
    expect(toSql(p("start_time >= '0001-01-01T00:00:00+01:00'"))).toBe('start_time >= make_timestamp_ns(-62135600400000000000)');
    expect(toSql(p(`"weird col" NOT LIKE '%x_' OR "a""b" IS NOT NULL OR is_root OR TRUE`))).toBe(
      `((("weird col" NOT LIKE '%x_' OR "a""b" IS NOT NULL) OR is_root = TRUE) OR TRUE)`,
    );
    expect(toSql(p('duration_ns > 2.5 AND score < 1e-7 AND timestamp IS NULL'))).toBe('((duration_ns > 2.5 AND score < 1e-7) AND timestamp IS NULL)');
    expect(toSql(p("name <> 'x'"))).toBe("name != 'x'");
  });
});
