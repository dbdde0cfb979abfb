/**
 * Promoted attributes: chosen attribute keys stored as typed top-level columns, the way
 * Tempo's dedicated columns work, so engines filter on them without reading the map.
 *
 * A value that fits the column's type moves out of the `attributes` map into the column; a
 * value that does not fit stays in the map, so nothing is lost either way.
 */
import { Float64Builder, Int64Builder, BoolBuilder, Utf8Builder, type ColumnBuilder } from './columns.js';
import { int64ToBigInt } from '../otlp/values.js';
import type { AnyValue } from '../otlp/types.js';
import { parsePromotedEntry, promotedColumnName, type PromotedEntryType } from '../config/promoted-columns.js';

export type PromotedType = PromotedEntryType;

/** Types of well-known semantic-convention attributes; anything else defaults to string. */
const KNOWN_TYPES: Readonly<Record<string, PromotedType>> = {
  'http.response.status_code': 'int64',
  'http.status_code': 'int64',
  'server.port': 'int64',
  'client.port': 'int64',
  'network.peer.port': 'int64',
  'http.request.body.size': 'int64',
  'http.response.body.size': 'int64',
  'rpc.grpc.status_code': 'int64',
  'messaging.batch.message_count': 'int64',
  'error': 'bool',
};

/**
 * Which map a promoted attribute moves out of: the record's own `attributes` (the
 * `promoted_attributes` key) or its resource's `resource_attributes` (schema version 2,
 * `promoted_resource_attributes`). One list carries both, so every stage that already passes
 * the promoted specs along passes the resource ones too.
 */
export type PromotedMap = 'attributes' | 'resource_attributes';

export interface PromotedSpec {
  readonly attribute: string;
  readonly column: string;
  readonly type: PromotedType;
  /** Absent means `attributes` (the record's own). */
  readonly map?: PromotedMap;
}

/** True for a dedicated resource-attribute column. */
export function isResourceSpec(s: PromotedSpec): boolean {
  return s.map === 'resource_attributes';
}

/** `"name"` or `"name:type"`, promoted out of the resource's attributes. */
export function parsePromotedResource(entry: string): PromotedSpec {
  return { ...parsePromoted(entry), map: 'resource_attributes' };
}

/** `"name"` or `"name:type"` (type one of string, int64, double, bool). */
export function parsePromoted(entry: string): PromotedSpec {
  const { attribute, type } = parsePromotedEntry(entry);
  return { attribute, column: promotedColumnName(attribute), type: type ?? KNOWN_TYPES[attribute] ?? 'string' };
}

// The column an attribute becomes is configuration's to know too (clash checks): it lives there.
export { promotedColumnName };

export type PromotedValue = string | bigint | number | boolean;

/**
 * The column builder of a promoted type. No per-builder `append` closure: closures made per
 * batch were each compiled anew by V8 once hot (the JIT census, bench/NOTES.md); the value's
 * own type picks the builder's method instead (`appendFitted`).
 */
function builderFor(type: PromotedType, rows?: number): ColumnBuilder {
  switch (type) {
    case 'string':
      return new Utf8Builder(rows);
    case 'int64':
      return new Int64Builder(rows);
    case 'double':
      return new Float64Builder(rows);
    case 'bool':
      return new BoolBuilder(rows);
  }
}

/** Builders made for `specs`, in order (a loop: no closure per batch). */
function buildersFor(specs: readonly PromotedSpec[], rows?: number): ColumnBuilder[] {
  const out: ColumnBuilder[] = [];
  for (let i = 0; i < specs.length; i++) out.push(builderFor(specs[i]!.type, rows));
  return out;
}

/**
 * Appends a value `fitPromoted` produced for the builder's type (a string to a `Utf8Builder`,
 * a bigint to an `Int64Builder`, a number to a `Float64Builder`, a boolean to a `BoolBuilder`),
 * or a null.
 */
function appendFitted(b: ColumnBuilder, v: PromotedValue | undefined): void {
  if (v === undefined) b.appendNull();
  else if (typeof v === 'string') (b as Utf8Builder).append(v);
  else if (typeof v === 'bigint') (b as Int64Builder).append(v);
  else if (typeof v === 'number') (b as Float64Builder).append(v);
  else (b as BoolBuilder).append(v);
}

/** Converts a value to the column's type, or returns undefined when it does not fit. */
export function fitPromoted(type: PromotedType, v: AnyValue): PromotedValue | undefined {
  switch (type) {
    case 'string':
      return v.value === 'stringValue' ? v.stringValue : undefined;
    case 'int64':
      return v.value === 'intValue' ? int64ToBigInt(v.intValue) : undefined;
    case 'double':
      if (v.value === 'doubleValue') return v.doubleValue;
      return v.value === 'intValue' ? Number(int64ToBigInt(v.intValue)) : undefined;
    case 'bool':
      return v.value === 'boolValue' ? v.boolValue : undefined;
  }
}

/** One builder per promoted column; `take` claims a value for the current row. */
export class PromotedColumns {
  readonly specs: readonly PromotedSpec[];
  readonly builders: ColumnBuilder[];
  private readonly byAttribute = new Map<string, number>();
  private readonly row: (PromotedValue | undefined)[];

  // Loops, not `map`/`forEach` arrows: one of these is made per batch, and each new arrow was
  // compiled again once hot (bench/NOTES.md, JIT census).
  constructor(specs: readonly PromotedSpec[], rows?: number) {
    this.specs = specs;
    this.builders = buildersFor(specs, rows);
    this.row = [];
    for (let i = 0; i < specs.length; i++) {
      this.byAttribute.set(specs[i]!.attribute, i);
      this.row.push(undefined);
    }
  }

  /** The attribute names as UTF-8, for matching keys still in protobuf bytes. */
  private keyBytes: Buffer[] | undefined;

  /**
   * The promoted attribute whose UTF-8 name is bytes [start, end) of `buf`, or undefined: the
   * one-pass decoders ask this for every key, so it compares bytes instead of decoding a string.
   */
  attributeAt(buf: Uint8Array, start: number, end: number): string | undefined {
    const keys = (this.keyBytes ??= keyBytesOf(this.specs));
    const n = end - start;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      if (key.length !== n) continue;
      let i = 0;
      while (i < n && key[i] === buf[start + i]) i++;
      if (i === n) return this.specs[k]!.attribute;
    }
    return undefined;
  }

  /**
   * For a key still in protobuf bytes: the index of its promoted column when that column has no
   * value yet in this row (the first occurrence wins, as in `take`), else -1.
   */
  openIndexAt(buf: Uint8Array, start: number, end: number): number {
    const key = this.attributeAt(buf, start, end);
    if (key === undefined) return -1;
    const index = this.byAttribute.get(key)!;
    return this.row[index] === undefined ? index : -1;
  }

  /** Sets column `index` of this row to a value already fitted to its type (`openIndexAt`). */
  takeAt(index: number, value: PromotedValue): void {
    this.row[index] = value;
  }

  /** True when the attribute went into its column (and must not be written to the map). */
  take(key: string, value: AnyValue | null): boolean {
    if (this.specs.length === 0 || value === null) return false;
    const index = this.byAttribute.get(key);
    if (index === undefined || this.row[index] !== undefined) return false;
    const fitted = fitPromoted(this.specs[index]!.type, value);
    if (fitted === undefined) return false;
    this.row[index] = fitted;
    return true;
  }

  endRow(): void {
    const builders = this.builders;
    for (let i = 0; i < builders.length; i++) {
      appendFitted(builders[i]!, this.row[i]);
      this.row[i] = undefined;
    }
  }
}

/** The specs' attribute names as UTF-8. */
function keyBytesOf(specs: readonly PromotedSpec[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < specs.length; i++) out.push(Buffer.from(specs[i]!.attribute, 'utf8'));
  return out;
}

/** A promoted-spec list split by the map each column comes out of (memoised per list). */
export interface SplitSpecs {
  readonly attributes: readonly PromotedSpec[];
  readonly resource: readonly PromotedSpec[];
}

const splits = new WeakMap<readonly PromotedSpec[], SplitSpecs>();

/**
 * The same list object always gives the same `resource` array, so a resource's split (computed
 * once per resource, `resourceRow` in common.ts) is shared by every builder of the request.
 */
export function splitSpecs(list: readonly PromotedSpec[]): SplitSpecs {
  let s = splits.get(list);
  if (s === undefined) {
    s = { attributes: list.filter((p) => !isResourceSpec(p)), resource: list.filter(isResourceSpec) };
    splits.set(list, s);
  }
  return s;
}

/**
 * A resource's values for its dedicated columns, fitted once per resource: strings as UTF-8
 * bytes (copied per row, never re-encoded), other types as they are; null when absent or not
 * fitting (the value then stays in `resource_attributes`).
 */
export type ResourceValue = Uint8Array | bigint | number | boolean | null;

/** The dedicated resource-attribute columns of one batch: one value per column per record. */
export class ResourceColumns {
  readonly builders: ColumnBuilder[];
  private readonly utf8: (Utf8Builder | undefined)[];

  constructor(
    readonly specs: readonly PromotedSpec[],
    rows?: number,
  ) {
    this.builders = buildersFor(specs, rows);
    this.utf8 = [];
    for (let i = 0; i < this.builders.length; i++) {
      const b = this.builders[i]!;
      this.utf8.push(b instanceof Utf8Builder ? b : undefined);
    }
  }

  append(values: readonly ResourceValue[]): void {
    const builders = this.builders;
    for (let i = 0; i < builders.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) builders[i]!.appendNull();
      else if (v instanceof Uint8Array) this.utf8[i]!.appendBytes(v);
      else if (typeof v === 'bigint') (builders[i] as Int64Builder).append(v);
      else if (typeof v === 'number') (builders[i] as Float64Builder).append(v);
      else (builders[i] as BoolBuilder).append(v);
    }
  }
}
