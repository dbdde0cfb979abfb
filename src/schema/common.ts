/**
 * Columns every dataset shares: who sent the record (resource, scope) and its attributes.
 *
 * Resource and scope values are the same for every record of a ResourceSpans/ScopeSpans, so
 * they are encoded to UTF-8 once per group (`ResourceContext`, `ScopeContext`) and copied per
 * row as one block of keys and one of values (`PackedStrings`), not entry by entry.
 */
import { Int64Builder, PackedStrings, StringMapBuilder, Utf8Builder, type ColumnBuilder } from './columns.js';
import { anyValueToText, findStringAttribute } from '../otlp/values.js';
import type { InstrumentationScope, KeyValue, Resource } from '../otlp/types.js';
import type { PromotedColumns } from './promoted.js';

/** An attribute map's keys and values, encoded once per group and appended as a block per row. */
interface EncodedEntries {
  readonly keys: PackedStrings;
  readonly values: PackedStrings;
}

function encodeEntries(attrs: readonly KeyValue[] | null | undefined): EncodedEntries {
  const list = attrs ?? [];
  return {
    keys: PackedStrings.of(list.map((kv) => Buffer.from(kv.key, 'utf8'))),
    values: PackedStrings.of(
      list.map((kv) => {
        const text = anyValueToText(kv.value);
        return text === null ? null : Buffer.from(text, 'utf8');
      }),
    ),
  };
}

function nonEmpty(s: string | null | undefined): string | null {
  return s === undefined || s === null || s === '' ? null : s;
}

export interface ResourceContext {
  readonly serviceName: string | null;
  readonly attributes: EncodedEntries;
  readonly droppedAttributesCount: number;
  readonly schemaUrl: string | null;
}

export function resourceContext(resource: Resource | null | undefined, schemaUrl: string): ResourceContext {
  return {
    serviceName: findStringAttribute(resource?.attributes, 'service.name'),
    attributes: encodeEntries(resource?.attributes),
    droppedAttributesCount: resource?.droppedAttributesCount ?? 0,
    schemaUrl: nonEmpty(schemaUrl),
  };
}

export interface ScopeContext {
  readonly name: string | null;
  readonly version: string | null;
  readonly attributes: EncodedEntries;
  readonly droppedAttributesCount: number;
  readonly schemaUrl: string | null;
}

export function scopeContext(scope: InstrumentationScope | null | undefined, schemaUrl: string): ScopeContext {
  return {
    name: nonEmpty(scope?.name),
    version: nonEmpty(scope?.version),
    attributes: encodeEntries(scope?.attributes),
    droppedAttributesCount: scope?.droppedAttributesCount ?? 0,
    schemaUrl: nonEmpty(schemaUrl),
  };
}

function appendEncoded(map: StringMapBuilder, entries: EncodedEntries): void {
  map.appendPackedRow(entries.keys, entries.values);
}

/**
 * Writes a record's attributes into a map row, letting promoted columns claim theirs first.
 * The caller ends the promoted row (`promoted.endRow()`) once per record.
 */
export function appendAttributes(map: StringMapBuilder, attrs: readonly KeyValue[] | null | undefined, promoted?: PromotedColumns): void {
  if (attrs) {
    for (let i = 0; i < attrs.length; i++) {
      const kv = attrs[i]!;
      if (promoted !== undefined && promoted.take(kv.key, kv.value)) continue;
      map.entry(kv.key, anyValueToText(kv.value));
    }
  }
  map.endRow();
}

/** The resource and scope columns, in schema order. */
export class SourceColumns {
  readonly service_name: Utf8Builder;
  readonly resource_attributes: StringMapBuilder;
  readonly resource_dropped_attributes_count: Int64Builder;
  readonly resource_schema_url: Utf8Builder;
  readonly scope_name: Utf8Builder;
  readonly scope_version: Utf8Builder;
  readonly scope_attributes: StringMapBuilder;
  readonly scope_dropped_attributes_count: Int64Builder;
  readonly scope_schema_url: Utf8Builder;

  /** `rows`: the records expected (sizes to start from; the builders grow past them). */
  constructor(rows?: number) {
    // Declared in schema order: `entries()` lists the columns in the order they are assigned.
    this.service_name = new Utf8Builder(rows);
    this.resource_attributes = new StringMapBuilder(rows, 6); // a handful of semantic-convention resource attributes
    this.resource_dropped_attributes_count = new Int64Builder(rows);
    this.resource_schema_url = new Utf8Builder(rows, 0);
    this.scope_name = new Utf8Builder(rows, 32);
    this.scope_version = new Utf8Builder(rows, 8);
    this.scope_attributes = new StringMapBuilder(rows, 0);
    this.scope_dropped_attributes_count = new Int64Builder(rows);
    this.scope_schema_url = new Utf8Builder(rows, 0);
  }

  append(resource: ResourceContext, scope: ScopeContext): void {
    this.service_name.append(resource.serviceName);
    appendEncoded(this.resource_attributes, resource.attributes);
    this.resource_dropped_attributes_count.appendUint32(resource.droppedAttributesCount);
    this.resource_schema_url.append(resource.schemaUrl);
    this.scope_name.append(scope.name);
    this.scope_version.append(scope.version);
    appendEncoded(this.scope_attributes, scope.attributes);
    this.scope_dropped_attributes_count.appendUint32(scope.droppedAttributesCount);
    this.scope_schema_url.append(scope.schemaUrl);
  }

  entries(): [string, ColumnBuilder][] {
    return Object.entries(this) as [string, ColumnBuilder][];
  }
}
