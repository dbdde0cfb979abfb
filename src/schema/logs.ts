/**
 * The `logs` dataset, schema version 2: one row per log record.
 *
 * The body keeps its type: a string body is stored as is, any other AnyValue as JSON text, and
 * `body_type` says which it was, so `"42"` and `42` stay distinguishable.
 *
 * Version 2 adds the dedicated resource-attribute columns (common.ts); the version constant
 * changes with the columns, and older files stay readable (startup check, union-by-name reads).
 */
import type { Schema } from 'apache-arrow';
import { DatasetBatchBuilderBase } from './batch-builder.js';
import { Int32Builder, Int64Builder, StringMapBuilder, TimestampNsBuilder, Utf8Builder, type ColumnBuilder } from './columns.js';
import { appendAttributes, type ResourceContext, type ScopeContext } from './common.js';
import type { PromotedSpec } from './promoted.js';
import { NANOS, RANDOM_ID, type StorageLayout } from '../parquet/contract.js';
import { anyValueToJsonText, bytesToHex, clampToInt64, describeId, isAllZero, isZeroInt64, unixNanoToBigInt } from '../otlp/values.js';
import type { LogRecord } from '../otlp/types.js';
import type { WireReader } from '../otlp/wire-reader.js';
import { appendWireAttributes, decodeAnyValue, type AttributesCheck } from './wire-attributes.js';
import type { WireLogRecord } from './wire-log-record.js';

export const LOGS_SCHEMA_VERSION = 2;
export const LOGS_EVENT_TIME_COLUMN = 'time';

/**
 * Rows by service, so a service's records are contiguous (its resource attributes repeat in
 * runs), in arrival order within it: an exporter's batches are already in time order, and
 * re-sorting by time too measured ~2 % larger on the bench load (it breaks the runs of
 * attributes within a batch). Trace context ids are random: no dictionary.
 */
export const LOGS_STORAGE: StorageLayout = {
  sortBy: ['service_name'],
  encodings: {
    time: NANOS,
    observed_time: NANOS,
    trace_id: RANDOM_ID,
    span_id: RANDOM_ID,
  },
};

const BODY_TYPES: Readonly<Record<string, string>> = {
  stringValue: 'string',
  boolValue: 'bool',
  intValue: 'int',
  doubleValue: 'double',
  bytesValue: 'bytes',
  arrayValue: 'array',
  kvlistValue: 'kvlist',
};

/** Why a record cannot be stored, or null. All-zero ids mean "no trace context" (W3C) and pass. */
export function validateLogRecord(rec: LogRecord): string | null {
  if (rec.traceId.length !== 0 && rec.traceId.length !== 16) {
    return `invalid trace_id: expected 16 bytes (32 hex digits) or none, got ${describeId(rec.traceId)}`;
  }
  if (rec.spanId.length !== 0 && rec.spanId.length !== 8) {
    return `invalid span_id: expected 8 bytes (16 hex digits) or none, got ${describeId(rec.spanId)}`;
  }
  return null;
}

/** The event time: `time`, else `observed_time`, else when we received it. */
export function logEventTime(rec: LogRecord, receivedNs: bigint): bigint {
  if (!isZeroInt64(rec.timeUnixNano)) return unixNanoToBigInt(rec.timeUnixNano);
  if (!isZeroInt64(rec.observedTimeUnixNano)) return unixNanoToBigInt(rec.observedTimeUnixNano);
  return receivedNs;
}

function zeroRange(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] !== 0) return false;
  return true;
}

/** `validateLogRecord` for a record read from protobuf bytes (the same rules and messages). */
export function validateWireLogRecord(rec: WireLogRecord): string | null {
  const traceLen = rec.traceId1 - rec.traceId0;
  if (traceLen !== 0 && traceLen !== 16) return `invalid trace_id: expected 16 bytes (32 hex digits) or none, got ${traceLen} bytes`;
  const spanLen = rec.spanId1 - rec.spanId0;
  if (spanLen !== 0 && spanLen !== 8) return `invalid span_id: expected 8 bytes (16 hex digits) or none, got ${spanLen} bytes`;
  return null;
}

/** `logEventTime` for a record read from protobuf bytes (times clamped as `unixNanoToBigInt` does). */
export function wireLogEventTime(rec: WireLogRecord, receivedNs: bigint): bigint {
  if (rec.time !== 0n) return clampToInt64(rec.time);
  if (rec.observedLo !== 0 || rec.observedHi !== 0) return clampToInt64(rec.observedTime);
  return receivedNs;
}

function idOrNull(bytes: Uint8Array): string | null {
  return bytes.length === 0 || isAllZero(bytes) ? null : bytesToHex(bytes);
}

export class LogsBatchBuilder extends DatasetBatchBuilderBase {
  private readonly c;
  private readonly attributes: StringMapBuilder;
  private readonly droppedAttributesCount: Int64Builder;

  /**
   * `rows`: the records expected (the one-pass decoder passes the scope's record count), so the
   * columns start at their final row count: no growth copies, and `tight` hands the arrays over
   * as they are. The bytes per row are the bench load's (ids exact), a start only.
   */
  constructor(promoted: readonly PromotedSpec[], rows?: number) {
    super(promoted, NO_NOT_NULL, rows);
    this.c = {
      time: new TimestampNsBuilder(rows),
      observed_time: new TimestampNsBuilder(rows),
      severity_number: new Int32Builder(rows),
      severity_text: new Utf8Builder(rows, 5),
      body: new Utf8Builder(rows, 64),
      body_type: new Utf8Builder(rows, 6),
      trace_id: new Utf8Builder(rows, 32),
      span_id: new Utf8Builder(rows, 16),
      flags: new Int64Builder(rows),
      event_name: new Utf8Builder(rows, 0),
    };
    this.attributes = new StringMapBuilder(rows, 2);
    this.droppedAttributesCount = new Int64Builder(rows);
  }

  /** Appends a record that passed `validateLogRecord`; `eventTime` from `logEventTime`. */
  append(resource: ResourceContext, scope: ScopeContext, rec: LogRecord, eventTime: bigint): void {
    const c = this.c;
    this.countRow(eventTime);
    c.time.append(isZeroInt64(rec.timeUnixNano) ? null : unixNanoToBigInt(rec.timeUnixNano));
    c.observed_time.append(isZeroInt64(rec.observedTimeUnixNano) ? null : unixNanoToBigInt(rec.observedTimeUnixNano));
    c.severity_number.append(rec.severityNumber);
    c.severity_text.append(rec.severityText === '' ? null : rec.severityText);
    const kind = rec.body?.value;
    c.body.append(kind === undefined ? null : kind === 'stringValue' ? rec.body!.stringValue : anyValueToJsonText(rec.body));
    c.body_type.append(kind === undefined ? null : BODY_TYPES[kind]!);
    c.trace_id.append(idOrNull(rec.traceId));
    c.span_id.append(idOrNull(rec.spanId));
    c.flags.append(BigInt(rec.flags >>> 0));
    c.event_name.append(rec.eventName === '' ? null : rec.eventName);
    this.source.append(resource, scope);
    appendAttributes(this.attributes, rec.attributes, this.promoted);
    this.promoted.endRow();
    this.droppedAttributesCount.append(BigInt(rec.droppedAttributesCount >>> 0));
  }

  /**
   * `append` for a record read from protobuf bytes (the one-pass logs decoder): strings and ids
   * are copied from the body; a body that is not a plain string is decoded by protobufjs and
   * written by the same function as `append` (they are rare, and need JSON).
   */
  appendWire(resource: ResourceContext, scope: ScopeContext, rec: WireLogRecord, r: WireReader, eventTime: bigint, check?: AttributesCheck): void {
    const c = this.c;
    const buf = r.buf;
    this.countRow(eventTime);
    if (rec.time === 0n) c.time.appendNull();
    else c.time.append(clampToInt64(rec.time));
    // Words, clamped at 2^63 − 1 as `unixNanoToBigInt` clamps (no bigint per record).
    if (rec.observedLo === 0 && rec.observedHi === 0) c.observed_time.appendNull();
    else c.observed_time.appendClampedWords(rec.observedLo, rec.observedHi);
    c.severity_number.append(rec.severityNumber);
    if (rec.severityText1 > rec.severityText0) c.severity_text.appendUtf8(buf, rec.severityText0, rec.severityText1);
    else c.severity_text.appendNull();
    this.appendWireBody(rec, r);
    if (rec.traceId1 > rec.traceId0 && !zeroRange(buf, rec.traceId0, rec.traceId1)) c.trace_id.appendHexRange(buf, rec.traceId0, rec.traceId1);
    else c.trace_id.appendNull();
    if (rec.spanId1 > rec.spanId0 && !zeroRange(buf, rec.spanId0, rec.spanId1)) c.span_id.appendHexRange(buf, rec.spanId0, rec.spanId1);
    else c.span_id.appendNull();
    c.flags.appendUint32(rec.flags >>> 0);
    if (rec.eventName1 > rec.eventName0) c.event_name.appendUtf8(buf, rec.eventName0, rec.eventName1);
    else c.event_name.appendNull();
    this.source.append(resource, scope);
    const attrs = rec.attributes;
    appendWireAttributes(this.attributes, r, attrs.starts, attrs.ends, 0, attrs.length, this.promoted, check);
    this.promoted.endRow();
    this.droppedAttributesCount.appendUint32(rec.droppedAttributes >>> 0);
  }

  private appendWireBody(rec: WireLogRecord, r: WireReader): void {
    const c = this.c;
    const start = rec.body0;
    const end = rec.body1;
    if (start < 0) {
      c.body.appendNull();
      c.body_type.appendNull();
      return;
    }
    // The common body: an AnyValue holding one string_value field and nothing else.
    if (end > start && r.buf[start] === 0x0a) {
      r.pos = start + 1;
      const len = r.varint();
      if (r.pos + len === end) {
        c.body.appendUtf8(r.buf, r.pos, end);
        c.body_type.append('string');
        return;
      }
    }
    const body = decodeAnyValue(r, start, end);
    const kind = body.value;
    c.body.append(kind === undefined ? null : kind === 'stringValue' ? body.stringValue : anyValueToJsonText(body));
    c.body_type.append(kind === undefined ? null : BODY_TYPES[kind]!);
  }

  protected columns(): [string, ColumnBuilder][] {
    const ordered = Object.entries(this.c) as [string, ColumnBuilder][];
    ordered.push(...this.source.entries());
    ordered.push(['attributes', this.attributes], ['dropped_attributes_count', this.droppedAttributesCount]);
    ordered.push(...this.promotedColumns());
    return ordered;
  }
}

/** Every logs column may be null: even `time` is null when the client sent 0. */
const NO_NOT_NULL: ReadonlySet<string> = new Set();

/** The Arrow schema of the dataset for a given list of promoted attributes. */
export function logsSchema(promoted: readonly PromotedSpec[]): Schema {
  return new LogsBatchBuilder(promoted).finish().schema;
}
