/**
 * The `traces` dataset, schema version 3: one row per span.
 *
 * This file is the contract shared by the writer, the query port and outside engines. The
 * version constant changes with the columns, and files of an older version stay readable: the
 * startup check refuses a schema the newest stored files cannot be read with, and every read
 * unions files by column name (a column a file lacks reads as null).
 *
 * Version 2 adds the dedicated resource-attribute columns (`promoted_resource_attributes`,
 * after the promoted ones; common.ts, promoted.ts): a value that fits moves out of
 * `resource_attributes`.
 *
 * Version 3 stores no `end_time`: it is `start_time + duration_ns`, derived wherever it is read
 * (`TRACES_DERIVED`: the query port, the DDL views, compaction's check of older files). It was
 * ~11 % of a span's bytes on the bench load (bench/NOTES.md) and one int64 column fewer to
 * append, sort and encode. The derivation is exact for every value the writer stores:
 * `duration_ns` is `end − start` in int64 (the one-pass decoder's words borrow; the bigint path
 * wraps in the BigInt64Array), so `start + duration` is `end` modulo 2^64, and as both times
 * are clamped to [0, 2^63) the sum never leaves int64 (test/unit/traces-end-time.test.ts).
 *
 * History: 1 — the columns; 2 — dedicated resource columns; 3 — no stored `end_time`.
 */
import type { Schema } from 'apache-arrow';
import { DatasetBatchBuilderBase } from './batch-builder.js';
import {
  Int64Builder,
  ListBuilder,
  StringMapBuilder,
  StructBuilder,
  TimestampNsBuilder,
  Utf8Builder,
  type ColumnBuilder,
} from './columns.js';
import { appendAttributes, type ResourceContext, type ScopeContext } from './common.js';
import type { PromotedSpec } from './promoted.js';
import type { DerivedColumn } from './derived.js';
import { NANOS, RANDOM_ID, type StorageLayout } from '../parquet/contract.js';
import { clampToInt64, describeId, hexOrNull, isAllZero, unixNanoToBigInt } from '../otlp/values.js';
import type { Span } from '../otlp/types.js';
import type { WireReader } from '../otlp/wire-reader.js';
import { appendWireAttributes, type AttributesCheck } from './wire-attributes.js';
import { Ranges, type WireSpan } from './wire-span.js';

export const TRACES_SCHEMA_VERSION = 3;

/**
 * Columns readers add to what is stored: `end_time` after `start_time`, the sum of the two
 * named columns (files of versions 1 and 2 store it, and are read as they are).
 */
export const TRACES_DERIVED: readonly DerivedColumn[] = [{ name: 'end_time', after: 'start_time', sum: ['start_time', 'duration_ns'] }];
export const TRACES_EVENT_TIME_COLUMN = 'start_time';

/**
 * Rows by trace, so a trace is contiguous and a lookup reads one narrow range (page statistics
 * on `trace_id`); within a trace, arrival order (sorting by start time as well measured ~6 %
 * larger on the bench load: it breaks the runs of names and attributes an exporter's batch has).
 * Ids are random: no dictionary.
 */
export const TRACES_STORAGE: StorageLayout = {
  sortBy: ['trace_id'],
  encodings: {
    trace_id: RANDOM_ID,
    span_id: RANDOM_ID,
    parent_span_id: RANDOM_ID,
    start_time: NANOS,
    duration_ns: NANOS,
  },
  // Measured (bench/lake.ts, one partition of ~100k spans): 8,192-row groups cut a lookup's
  // bytes 721 → 315 KB and its time ratio to DuckDB 3.7× → 2.9×; scans were no slower.
  rowGroupRows: 8192,
  // Pages close at 16 KiB, checked after each write batch of 256 rows: pages of ~1,000 rows
  // (first row group of the bench load: `attributes` values 1,024 rows a page, keys 2,731,
  // `span_id` 1,024; with 4 KiB pages 293, 745, 256), so a lookup decodes a few pages of ~1,000
  // rows a column, not the row group's 8,192 (dictionary-only columns like `events` keep one page).
  // Rule (issue 19): ingest CPU and bytes are paid by every sidecar of a fleet; a lookup is
  // interactive and may give up some margin, within ~1.5× of its time with 4 KiB pages and well
  // under a second. Measured (bench/traces-layouts.ts, bench/NOTES.md 2026-11-30): against 4 KiB
  // pages, files −4.7 % (48.21 → 45.93 B/span), writeParquet −1 to −6 % CPU (the daemon's CPU
  // per span unchanged within what pairs resolve), a lookup on the one-partition lake ~1.2× its
  // CPU in the engine (~24 → ~28 ms) and ~1.45× its time through the port (~33 → ~48 ms): at the
  // rule's edge. 8 KiB / 256 is the fallback (−2.9 % bytes, lookups ~1.05–1.2×). 32 KiB / 256
  // (−5.8 %) and 64 KiB (−6.4 %) cost lookups 1.6–2.3×; 32,768-row groups (−9 %) 3.5–6×.
  pageBytes: 16_384,
  writeBatchRows: 256,
};

export const SPAN_KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
export const STATUS_CODES = ['UNSET', 'OK', 'ERROR'];

export function enumName(names: readonly string[], n: number): string {
  return names[n] ?? String(n);
}

/** Why a span cannot be stored, or null when it can (OTLP partial success reports it). */
export function validateSpan(span: Span): string | null {
  if (span.traceId.length !== 16 || isAllZero(span.traceId)) {
    return `invalid trace_id: expected 16 non-zero bytes (32 hex digits), got ${describeId(span.traceId)}`;
  }
  if (span.spanId.length !== 8 || isAllZero(span.spanId)) {
    return `invalid span_id: expected 8 non-zero bytes (16 hex digits), got ${describeId(span.spanId)}`;
  }
  if (span.parentSpanId.length !== 0 && span.parentSpanId.length !== 8) {
    return `invalid parent_span_id: expected 8 bytes (16 hex digits) or none, got ${describeId(span.parentSpanId)}`;
  }
  return null;
}

function zeroRange(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** `validateSpan` for a span read from protobuf bytes (the same rules and messages). */
export function validateWireSpan(s: WireSpan, buf: Uint8Array): string | null {
  const traceLen = s.traceId1 - s.traceId0;
  if (traceLen !== 16 || zeroRange(buf, s.traceId0, s.traceId1)) return `invalid trace_id: expected 16 non-zero bytes (32 hex digits), got ${traceLen} bytes`;
  const spanLen = s.spanId1 - s.spanId0;
  if (spanLen !== 8 || zeroRange(buf, s.spanId0, s.spanId1)) return `invalid span_id: expected 8 non-zero bytes (16 hex digits), got ${spanLen} bytes`;
  const parentLen = s.parent1 - s.parent0;
  if (parentLen !== 0 && parentLen !== 8) return `invalid parent_span_id: expected 8 bytes (16 hex digits) or none, got ${parentLen} bytes`;
  return null;
}

function eventColumns() {
  return new StructBuilder({
    time: new TimestampNsBuilder(),
    name: new Utf8Builder(),
    attributes: new StringMapBuilder(),
    dropped_attributes_count: new Int64Builder(),
  });
}

function linkColumns() {
  return new StructBuilder({
    trace_id: new Utf8Builder(),
    span_id: new Utf8Builder(),
    trace_state: new Utf8Builder(),
    attributes: new StringMapBuilder(),
    dropped_attributes_count: new Int64Builder(),
    flags: new Int64Builder(),
  });
}

/** Builds one record batch of spans; one builder per partition per request. */
export class TracesBatchBuilder extends DatasetBatchBuilderBase {
  private readonly c;

  /**
   * `rows`: the spans expected (the one-pass decoder passes the request's count), so the
   * builders start at their final row count: no growth copies, and `tight` hands the arrays
   * over as they are. The bytes per row are the bench load's (ids exact), a start only.
   */
  constructor(promoted: readonly PromotedSpec[], rows?: number) {
    super(promoted, NOT_NULL, rows);
    this.c = {
      trace_id: new Utf8Builder(rows, 32),
      span_id: new Utf8Builder(rows, 16),
      parent_span_id: new Utf8Builder(rows, 16),
      trace_state: new Utf8Builder(rows, 0),
      flags: new Int64Builder(rows),
      name: new Utf8Builder(rows, 24),
      kind: new Utf8Builder(rows, 8),
      start_time: new TimestampNsBuilder(rows),
      duration_ns: new Int64Builder(rows),
      status_code: new Utf8Builder(rows, 5),
      status_message: new Utf8Builder(rows, 0),
      attributes: new StringMapBuilder(rows, 8),
      dropped_attributes_count: new Int64Builder(rows),
      events: new ListBuilder(eventColumns()),
      dropped_events_count: new Int64Builder(rows),
      links: new ListBuilder(linkColumns()),
      dropped_links_count: new Int64Builder(rows),
    };
  }

  /** Appends a span that passed `validateSpan`; `start` is its start time in ns. */
  append(resource: ResourceContext, scope: ScopeContext, span: Span, start: bigint): void {
    const c = this.c;
    const end = unixNanoToBigInt(span.endTimeUnixNano);
    this.countRow(start);
    c.trace_id.appendHex(span.traceId);
    c.span_id.appendHex(span.spanId);
    if (span.parentSpanId.length > 0) c.parent_span_id.appendHex(span.parentSpanId);
    else c.parent_span_id.appendNull();
    c.trace_state.append(span.traceState === '' ? null : span.traceState);
    c.flags.append(BigInt(span.flags >>> 0));
    c.name.append(span.name);
    c.kind.append(enumName(SPAN_KINDS, span.kind));
    c.start_time.append(start);
    c.duration_ns.append(end - start); // wraps modulo 2^64 like the words below: start + duration = end
    c.status_code.append(enumName(STATUS_CODES, span.status?.code ?? 0));
    c.status_message.append(span.status?.message ? span.status.message : null);
    appendAttributes(c.attributes, span.attributes, this.promoted);
    this.promoted.endRow();
    c.dropped_attributes_count.append(BigInt(span.droppedAttributesCount >>> 0));
    this.appendEvents(span);
    c.dropped_events_count.append(BigInt(span.droppedEventsCount >>> 0));
    this.appendLinks(span);
    c.dropped_links_count.append(BigInt(span.droppedLinksCount >>> 0));
    this.source.append(resource, scope);
  }

  /**
   * `append` for a span read from protobuf bytes (the one-pass decoder): strings and ids are
   * copied from the body into the columns; what is stored is the same, value for value.
   * `check`: the span's attributes are still to be checked as they are read (WireSpan.read
   * checked the rest).
   */
  appendWire(resource: ResourceContext, scope: ScopeContext, span: WireSpan, r: WireReader, check?: AttributesCheck): void {
    const c = this.c;
    const buf = r.buf;
    this.countRow(span.start);
    c.trace_id.appendHexRange(buf, span.traceId0, span.traceId1);
    c.span_id.appendHexRange(buf, span.spanId0, span.spanId1);
    if (span.parent1 > span.parent0) c.parent_span_id.appendHexRange(buf, span.parent0, span.parent1);
    else c.parent_span_id.appendNull();
    if (span.traceState1 > span.traceState0) c.trace_state.appendUtf8(buf, span.traceState0, span.traceState1);
    else c.trace_state.appendNull();
    c.flags.appendUint32(span.flags);
    c.name.appendUtf8(buf, span.name0, span.name1);
    c.kind.append(enumName(SPAN_KINDS, span.kind));
    // The times from the wire's 32-bit words, no bigint: both are clamped to [0, 2^63), so
    // end − start fits int64; its low word borrows from the high one (the one-pass decoder test
    // covers end before start and values beyond 2^32, 2^53 and 2^63). The end is not stored:
    // readers add the duration back (TRACES_DERIVED).
    const sLo = span.startLo;
    const sHi = span.startHi;
    const eLo = span.endLo;
    const eHi = span.endHi;
    c.start_time.appendWords(sLo, sHi);
    const lo = eLo - sLo;
    c.duration_ns.appendWords(lo, eHi - sHi - (lo < 0 ? 1 : 0));
    this.appendWireStatus(span, r);
    const attrs = span.attributes;
    appendWireAttributes(c.attributes, r, attrs.starts, attrs.ends, 0, attrs.length, this.promoted, check);
    this.promoted.endRow();
    c.dropped_attributes_count.appendUint32(span.droppedAttributes);
    this.appendWireEvents(span, r);
    c.dropped_events_count.appendUint32(span.droppedEvents);
    this.appendWireLinks(span, r);
    c.dropped_links_count.appendUint32(span.droppedLinks);
    this.source.append(resource, scope);
  }

  private appendWireStatus(span: WireSpan, r: WireReader): void {
    let code = 0;
    let m0 = 0;
    let m1 = 0;
    if (span.status0 >= 0) {
      r.pos = span.status0;
      while (r.pos < span.status1) {
        const tag = r.varint();
        if (tag === 0x12) {
          m1 = r.varint() + r.pos;
          m0 = r.pos;
          r.pos = m1;
        } else if (tag === 0x18) code = r.int32();
        else r.skip(tag & 7);
      }
    }
    this.c.status_code.append(enumName(STATUS_CODES, code));
    if (m1 > m0) this.c.status_message.appendUtf8(r.buf, m0, m1);
    else this.c.status_message.appendNull();
  }

  /** Attribute ranges of one event or link (scratch, reused). */
  private readonly nested = new Ranges();

  private appendWireEvents(span: WireSpan, r: WireReader): void {
    const list = this.c.events;
    const ev = list.items.children;
    const attrs = this.nested;
    for (let i = 0; i < span.events.length; i++) {
      const end = span.events.ends[i]!;
      let time = 0n;
      let n0 = 0;
      let n1 = 0;
      let dropped = 0;
      attrs.length = 0;
      r.pos = span.events.starts[i]!;
      while (r.pos < end) {
        const tag = r.varint();
        if (tag === 0x09) time = r.fixed64();
        else if (tag === 0x12) {
          n1 = r.varint() + r.pos;
          n0 = r.pos;
          r.pos = n1;
        } else if (tag === 0x1a) {
          const e = r.varint() + r.pos;
          attrs.push(r.pos, e);
          r.pos = e;
        } else if (tag === 0x20) dropped = r.uint32();
        else r.skip(tag & 7);
      }
      ev.time.append(clampToInt64(time));
      ev.name.appendUtf8(r.buf, n0, n1);
      appendWireAttributes(ev.attributes, r, attrs.starts, attrs.ends, 0, attrs.length);
      ev.dropped_attributes_count.appendUint32(dropped);
      list.items.endRow();
    }
    list.endRow();
  }

  private appendWireLinks(span: WireSpan, r: WireReader): void {
    const list = this.c.links;
    const ln = list.items.children;
    const attrs = this.nested;
    for (let i = 0; i < span.links.length; i++) {
      const end = span.links.ends[i]!;
      let t0 = 0;
      let t1 = 0;
      let s0 = 0;
      let s1 = 0;
      let ts0 = 0;
      let ts1 = 0;
      let dropped = 0;
      let flags = 0;
      attrs.length = 0;
      r.pos = span.links.starts[i]!;
      while (r.pos < end) {
        const tag = r.varint();
        if (tag === 0x0a) {
          t1 = r.varint() + r.pos;
          t0 = r.pos;
          r.pos = t1;
        } else if (tag === 0x12) {
          s1 = r.varint() + r.pos;
          s0 = r.pos;
          r.pos = s1;
        } else if (tag === 0x1a) {
          ts1 = r.varint() + r.pos;
          ts0 = r.pos;
          r.pos = ts1;
        } else if (tag === 0x22) {
          const e = r.varint() + r.pos;
          attrs.push(r.pos, e);
          r.pos = e;
        } else if (tag === 0x28) dropped = r.uint32();
        else if (tag === 0x35) flags = r.fixed32();
        else r.skip(tag & 7);
      }
      if (t1 > t0) ln.trace_id.appendHexRange(r.buf, t0, t1);
      else ln.trace_id.appendNull();
      if (s1 > s0) ln.span_id.appendHexRange(r.buf, s0, s1);
      else ln.span_id.appendNull();
      if (ts1 > ts0) ln.trace_state.appendUtf8(r.buf, ts0, ts1);
      else ln.trace_state.appendNull();
      appendWireAttributes(ln.attributes, r, attrs.starts, attrs.ends, 0, attrs.length);
      ln.dropped_attributes_count.appendUint32(dropped);
      ln.flags.appendUint32(flags);
      list.items.endRow();
    }
    list.endRow();
  }

  private appendEvents(span: Span): void {
    const list = this.c.events;
    const ev = list.items.children;
    for (const e of span.events) {
      ev.time.append(unixNanoToBigInt(e.timeUnixNano));
      ev.name.append(e.name);
      appendAttributes(ev.attributes, e.attributes);
      ev.dropped_attributes_count.append(BigInt(e.droppedAttributesCount >>> 0));
      list.items.endRow();
    }
    list.endRow();
  }

  private appendLinks(span: Span): void {
    const list = this.c.links;
    const ln = list.items.children;
    for (const l of span.links) {
      ln.trace_id.append(hexOrNull(l.traceId));
      ln.span_id.append(hexOrNull(l.spanId));
      ln.trace_state.append(l.traceState === '' ? null : l.traceState);
      appendAttributes(ln.attributes, l.attributes);
      ln.dropped_attributes_count.append(BigInt(l.droppedAttributesCount >>> 0));
      ln.flags.append(BigInt(l.flags >>> 0));
      list.items.endRow();
    }
    list.endRow();
  }

  protected columns(): [string, ColumnBuilder][] {
    const ordered: [string, ColumnBuilder][] = [];
    const { attributes, dropped_attributes_count, events, dropped_events_count, links, dropped_links_count, ...head } = this.c;
    ordered.push(...(Object.entries(head) as [string, ColumnBuilder][]));
    ordered.push(...this.source.entries());
    ordered.push(
      ['attributes', attributes],
      ['dropped_attributes_count', dropped_attributes_count],
      ['events', events],
      ['dropped_events_count', dropped_events_count],
      ['links', links],
      ['dropped_links_count', dropped_links_count],
    );
    ordered.push(...this.promotedColumns());
    return ordered;
  }
}

const NOT_NULL = new Set(['trace_id', 'span_id', 'name', 'kind', 'start_time', 'duration_ns', 'status_code']);

/** The Arrow schema of the dataset for a given list of promoted attributes. */
export function tracesSchema(promoted: readonly PromotedSpec[]): Schema {
  return new TracesBatchBuilder(promoted).finish().schema;
}

