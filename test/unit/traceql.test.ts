/**
 * The TraceQL subset: what parses (and to what), what is refused and how the refusal names
 * the construct, exact evaluation on spans, and the push-down filter being a superset that the
 * engine's filter parser accepts.
 */
import { describe, expect, it } from 'vitest';
import { parseFilter } from '../../src/query/filter/index.js';
import { datasetCatalog } from '../../src/query/catalog.js';
import { parsePromoted } from '../../src/schema/promoted.js';
import { spanFromRecord } from '../../src/query/spans/span-view.js';
import { matchTrace, parseDurationNs, parseTraceQL, pruneFilter, TraceQLError } from '../../src/query/traceql/index.js';
import { evaluate } from '../../src/query/filter/index.js';

const promoted = ['http.request.method', 'http.response.status_code', 'url.path'].map(parsePromoted);
const catalog = datasetCatalog('traces', promoted);

function span(over: Record<string, unknown> = {}) {
  return spanFromRecord(
    {
      trace_id: 'a'.repeat(32),
      span_id: 'b'.repeat(16),
      parent_span_id: null,
      name: 'GET /x',
      kind: 'SERVER',
      start_time: '2024-01-01T00:00:00.000000000Z',
      end_time: '2024-01-01T00:00:00.250000000Z',
      duration_ns: 250_000_000,
      status_code: 'ERROR',
      status_message: null,
      service_name: 'api',
      resource_attributes: { 'service.name': 'api', 'app.tier': 'gold' },
      attributes: { 'app.items': '12', 'app.flag': 'true' },
      http_response_status_code: 503,
      url_path: '/x',
      ...over,
    } as never,
    promoted,
  );
}

const OUTLINE = { rootName: 'GET /x', rootServiceName: 'api', durationNs: 300_000_000n };

describe('TraceQL', () => {
  it('reads durations with every unit, fractions and compounds', () => {
    expect(parseDurationNs('1h30m')).toBe(5_400_000_000_000n);
    expect(parseDurationNs('1.5s')).toBe(1_500_000_000n);
    expect(parseDurationNs('250us')).toBe(250_000n);
    expect(parseDurationNs('7ns')).toBe(7n);
    expect(parseDurationNs('fast')).toBeNull();
    expect(parseDurationNs('')).toBeNull();
  });

  const MATCHES: [string, boolean][] = [
    ['{}', true],
    ['{ name = "GET /x" }', true],
    ['{ status = error && kind = server }', true],
    ['{ status != error }', false],
    ['{ duration > 200ms && duration <= 250ms }', true],
    ['{ span.http.response.status_code >= 500 }', true],
    ['{ span.http.response.status_code = "503" }', true],
    ['{ span.app.items > 11.5 }', true],
    ['{ span.app.items < 3 }', false],
    ['{ span.app.flag = true }', true],
    ['{ resource.app.tier = "gold" }', true],
    ['{ .app.tier = "gold" }', true],
    ['{ span.app.tier = "gold" }', false],
    ['{ span.missing != "x" }', false],
    ['{ name =~ "GET.*" }', true],
    ['{ name =~ "GET" }', false], // anchored
    ['{ name !~ "POST.*" }', true],
    ['{ rootServiceName = "api" && traceDuration > 299ms }', true],
    ['{ rootName = "other" }', false],
    ['{ statusMessage = "" }', true],
    ['{ (name = "nope" || kind = server) && resource.service.name = "api" }', true],
    ['{ name = "nope" } || { kind = server }', true],
    ['{ name = "nope" } && { kind = server }', false],
    ['{ span:name = "GET /x" && trace:rootService = "api" }', true],
    ['{ span.app.items = -12 }', false],
  ];
  for (const [q, want] of MATCHES) {
    it(`${want ? 'matches' : 'does not match'} ${q}, and its push-down keeps the span`, () => {
      const expr = parseTraceQL(q);
      expect(matchTrace(expr, [span()], OUTLINE) !== null).toBe(want);
      // The pushed-down filter parses against the real catalog and never drops a matching span.
      const f = pruneFilter(expr, promoted);
      if (f !== undefined) {
        const parsed = parseFilter(f, catalog.filterColumns);
        const row: Record<string, unknown> = {
          name: 'GET /x', kind: 'SERVER', status_code: 'ERROR', status_message: null, duration_ns: 250_000_000n, service_name: 'api',
          resource_attributes: { 'service.name': 'api', 'app.tier': 'gold' }, attributes: { 'app.items': '12', 'app.flag': 'true' },
          http_response_status_code: 503n, url_path: '/x', http_request_method: null,
        };
        if (want) expect(evaluate(parsed, (c) => row[c] ?? null)).toBe(true);
      }
    });
  }

  it('pushes down what the filter language can say exactly', () => {
    expect(pruneFilter(parseTraceQL('{ resource.service.name = "api" && status = error && duration > 1ms }'), promoted)).toBe(
      "((service_name = 'api') AND (status_code = 'ERROR')) AND (duration_ns > 1000000)",
    );
    expect(pruneFilter(parseTraceQL('{ span.url.path = "/x" }'), promoted)).toBe("(url_path = '/x' OR attributes['url.path'] IS NOT NULL)");
    expect(pruneFilter(parseTraceQL('{ span.user.id = "u1" }'), promoted)).toBe("attributes['user.id'] = 'u1'");
    expect(pruneFilter(parseTraceQL('{ .x = "y" }'), promoted)).toBeUndefined();
    expect(pruneFilter(parseTraceQL('{ name = "a" } || { .x = 1 }'), promoted)).toBeUndefined();
  });

  const REFUSED: [string, string][] = [
    ['{ .a = 1 } | count() > 1', 'pipelines'],
    ['{ .a = 1 } >> { .b = 1 }', '">>"'],
    ['{ .a = 1 } ~ { .b = 1 }', '"~"'],
    ['{ event.name = "x" }', 'event scope'],
    ['{ link.x = "x" }', 'link scope'],
    ['{ span:id = "x" }', 'span intrinsic'],
    ['{ .a }', 'existence checks'],
    ['{ .a = nil }', 'nil'],
    ['{ duration > 5 }', 'duration compares with a duration'],
    ['{ status = "error" }', 'status compares with error'],
    ['{ kind > server }', 'kind takes = or !='],
    ['{ .a > true }', 'booleans take = or !='],
    ['{ .a =~ 5 }', '=~ and !~ need a string'],
    ['{ name =~ "[" }', 'invalid regular expression'],
    ['{ name = "x" ', 'expected "}"'],
    ['{ name = "x }', 'unterminated string'],
    ['{ foo = "x" }', 'unknown identifier "foo"'],
    ['{ duration > 5parsecs }', 'invalid number or duration'],
    ['{ .a + 1 = 2 }', 'arithmetic'],
    ['max(duration) > 1s', 'function max()'],
    ['{ name = "x" } {', 'expected &&, ||'],
  ];
  for (const [q, needle] of REFUSED) {
    it(`refuses ${q} naming ${needle}`, () => {
      let err: unknown;
      try {
        parseTraceQL(q);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TraceQLError);
      expect((err as TraceQLError).code).toBe('INVALID_ARGUMENT');
      expect((err as Error).message).toContain(needle);
    });
  }
});
