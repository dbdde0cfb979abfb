/**
 * The `traces` dataset, schema version 1: one row per span.
 *
 * This file is the contract shared by the writer, the query port and outside engines. A change
 * to the columns is a new version (a new module), never an edit of this one.
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
import { NANOS, RANDOM_ID, type StorageLayout } from '../parquet/contract.js';
import { hexOrNull, isAllZero, unixNanoToBigInt } from '../otlp/values.js';
import type { Span } from '../otlp/types.js';

export const TRACES_SCHEMA_VERSION = 1;
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
    end_time: NANOS,
    duration_ns: NANOS,
  },
  // Measured (bench/lake.ts, one partition of ~100k spans): 8,192-row groups cut a lookup's
  // bytes 721 → 315 KB and its time ratio to DuckDB 3.7× → 2.9×; scans were no slower.
  rowGroupRows: 8192,
};

export const SPAN_KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
export const STATUS_CODES = ['UNSET', 'OK', 'ERROR'];

export function enumName(names: readonly string[], n: number): string {
  return names[n] ?? String(n);
}

/** Why a span cannot be stored, or null when it can (OTLP partial success reports it). */
export function validateSpan(span: Span): string | null {
  if (span.traceId.length !== 16 || isAllZero(span.traceId)) {
    return `invalid trace_id: expected 16 non-zero bytes (32 hex digits), got ${span.traceId.length} bytes`;
  }
  if (span.spanId.length !== 8 || isAllZero(span.spanId)) {
    return `invalid span_id: expected 8 non-zero bytes (16 hex digits), got ${span.spanId.length} bytes`;
  }
  if (span.parentSpanId.length !== 0 && span.parentSpanId.length !== 8) {
    return `invalid parent_span_id: expected 8 bytes (16 hex digits) or none, got ${span.parentSpanId.length} bytes`;
  }
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
  private readonly c = {
    trace_id: new Utf8Builder(),
    span_id: new Utf8Builder(),
    parent_span_id: new Utf8Builder(),
    trace_state: new Utf8Builder(),
    flags: new Int64Builder(),
    name: new Utf8Builder(),
    kind: new Utf8Builder(),
    start_time: new TimestampNsBuilder(),
    end_time: new TimestampNsBuilder(),
    duration_ns: new Int64Builder(),
    status_code: new Utf8Builder(),
    status_message: new Utf8Builder(),
    attributes: new StringMapBuilder(),
    dropped_attributes_count: new Int64Builder(),
    events: new ListBuilder(eventColumns()),
    dropped_events_count: new Int64Builder(),
    links: new ListBuilder(linkColumns()),
    dropped_links_count: new Int64Builder(),
  };
  constructor(promoted: readonly PromotedSpec[]) {
    super(promoted, NOT_NULL);
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
    c.end_time.append(end);
    c.duration_ns.append(end - start);
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

const NOT_NULL = new Set(['trace_id', 'span_id', 'name', 'kind', 'start_time', 'end_time', 'duration_ns', 'status_code']);

/** The Arrow schema of the dataset for a given list of promoted attributes. */
export function tracesSchema(promoted: readonly PromotedSpec[]): Schema {
  return new TracesBatchBuilder(promoted).finish().schema;
}

