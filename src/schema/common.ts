/**
 * Columns every dataset shares: who sent the record (resource, scope) and its attributes.
 *
 * Resource and scope values are the same for every record of a ResourceSpans/ScopeSpans, so
 * they are encoded to UTF-8 once per group (`ResourceContext`, `ScopeContext`) and copied per
 * row as one block of keys and one of values (`PackedStrings`), not entry by entry. Schema
 * version 2's dedicated resource columns are split off once per resource too (`resourceRow`):
 * per row, each column gets the resource's pre-encoded value or a null.
 */
import { Int64Builder, PackedStrings, StringMapBuilder, Utf8Builder, type ColumnBuilder } from './columns.js';
import { anyValueToText, findStringAttribute } from '../otlp/values.js';
import type { AnyValue, InstrumentationScope, KeyValue, Resource } from '../otlp/types.js';
import { fitPromoted, ResourceColumns, type PromotedColumns, type PromotedSpec, type ResourceValue } from './promoted.js';

/** An attribute map's keys and values, encoded once per group and appended as a block per row. */
interface EncodedEntries {
  readonly keys: PackedStrings;
  readonly values: PackedStrings;
}

// Loops, not `map` arrows: this runs once per resource and scope, and each call's new arrows
// were compiled again by V8 once hot (the JIT census, bench/NOTES.md).
function encodeEntries(attrs: readonly KeyValue[] | null | undefined): EncodedEntries {
  const list = attrs ?? [];
  const keys: Buffer[] = [];
  const values: (Buffer | null)[] = [];
  for (let i = 0; i < list.length; i++) {
    const kv = list[i]!;
    keys.push(Buffer.from(kv.key, 'utf8'));
    const text = anyValueToText(kv.value);
    values.push(text === null ? null : Buffer.from(text, 'utf8'));
  }
  return { keys: PackedStrings.of(keys), values: PackedStrings.of(values) };
}

/** The index of the spec promoting `key`, or -1 (a loop: no closure per key). */
function specIndex(specs: readonly PromotedSpec[], key: string): number {
  for (let i = 0; i < specs.length; i++) if (specs[i]!.attribute === key) return i;
  return -1;
}

function nonEmpty(s: string | null | undefined): string | null {
  return s === undefined || s === null || s === '' ? null : s;
}

export interface ResourceContext {
  readonly serviceName: string | null;
  /** The resource's attributes as received; split and encoded by `resourceRow`. */
  readonly keyValues: readonly KeyValue[];
  readonly droppedAttributesCount: number;
  readonly schemaUrl: string | null;
  /** The last `resourceRow` (one spec list per dataset: computed once per resource). */
  row: ResourceRow | undefined;
}

export function resourceContext(resource: Resource | null | undefined, schemaUrl: string): ResourceContext {
  return {
    serviceName: findStringAttribute(resource?.attributes, 'service.name'),
    keyValues: resource?.attributes ?? [],
    droppedAttributesCount: resource?.droppedAttributesCount ?? 0,
    schemaUrl: nonEmpty(schemaUrl),
    row: undefined,
  };
}

/**
 * What a resource puts in every row of a batch: the values of its dedicated columns and the
 * attributes left for the `resource_attributes` map (the others, and any value that does not
 * fit its column's type: nothing is lost).
 */
export interface ResourceRow {
  readonly specs: readonly PromotedSpec[];
  readonly values: readonly ResourceValue[];
  readonly attributes: EncodedEntries;
}

function fitResource(spec: PromotedSpec, v: AnyValue | null | undefined): Exclude<ResourceValue, null> | undefined {
  if (v === null || v === undefined) return undefined;
  const fitted = fitPromoted(spec.type, v);
  return typeof fitted === 'string' ? Buffer.from(fitted, 'utf8') : fitted;
}

/** The resource's row for a list of dedicated columns, computed on first use and kept. */
export function resourceRow(resource: ResourceContext, specs: readonly PromotedSpec[]): ResourceRow {
  const last = resource.row;
  if (last !== undefined && last.specs === specs) return last;
  const values: ResourceValue[] = new Array<ResourceValue>(specs.length).fill(null);
  const rest: KeyValue[] = [];
  for (const kv of resource.keyValues) {
    const i = specIndex(specs, kv.key);
    // The first occurrence of a key claims the column, as for promoted span attributes.
    const fitted = i >= 0 && values[i] === null ? fitResource(specs[i]!, kv.value) : undefined;
    if (fitted === undefined) rest.push(kv);
    else values[i] = fitted;
  }
  const row: ResourceRow = { specs, values, attributes: encodeEntries(rest) };
  resource.row = row;
  return row;
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

  /** The dedicated resource-attribute columns (schema version 2), listed by the batch after its promoted ones. */
  readonly resource: ResourceColumns;

  /**
   * `rows`: the records expected (sizes to start from; the builders grow past them).
   * `resourceSpecs`: the dedicated resource columns (`splitSpecs(...).resource`).
   */
  constructor(rows?: number, resourceSpecs: readonly PromotedSpec[] = []) {
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
    this.resource = new ResourceColumns(resourceSpecs, rows);
  }

  append(resource: ResourceContext, scope: ScopeContext): void {
    const row = resourceRow(resource, this.resource.specs);
    this.service_name.append(resource.serviceName);
    appendEncoded(this.resource_attributes, row.attributes);
    this.resource.append(row.values);
    this.resource_dropped_attributes_count.appendUint32(resource.droppedAttributesCount);
    this.resource_schema_url.append(resource.schemaUrl);
    this.scope_name.append(scope.name);
    this.scope_version.append(scope.version);
    appendEncoded(this.scope_attributes, scope.attributes);
    this.scope_dropped_attributes_count.appendUint32(scope.droppedAttributesCount);
    this.scope_schema_url.append(scope.schemaUrl);
  }

  entries(): [string, ColumnBuilder][] {
    // `resource` is not one column: the batch lists its columns last (promotedColumns). A loop,
    // not `filter` with an arrow: this runs once per batch (the recompiles in bench/NOTES.md).
    const out: [string, ColumnBuilder][] = [];
    for (const [name, builder] of Object.entries(this)) if (name !== 'resource') out.push([name, builder as ColumnBuilder]);
    return out;
  }
}
