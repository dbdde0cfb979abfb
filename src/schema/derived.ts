/**
 * Columns a dataset's readers see but its newest files do not store: each is the int64 sum of
 * two stored columns (the traces' `end_time = start_time + duration_ns`, schema version 3).
 * Older files may store the column itself; readers take it from there when they do.
 *
 * This is part of the contract the query port, the DDL views and compaction share, so the rule
 * (which columns, which sum, where in the column order) lives here once.
 */
import { Field, Schema } from 'apache-arrow';

export interface DerivedColumn {
  readonly name: string;
  /** The stored column it follows in a reader's column order (where older files had it). */
  readonly after: string;
  /** The two stored int64 (or timestamp) columns it is the sum of; it takes the first's type. */
  readonly sum: readonly [string, string];
}

/**
 * The schema readers see: the stored one with each derived column inserted after its `after`
 * column, with the type of the first summand (not null when both summands are not null).
 */
export function withDerived(stored: Schema, derived: readonly DerivedColumn[]): Schema {
  if (derived.length === 0) return stored;
  const fields = [...stored.fields];
  for (const d of derived) {
    if (fields.some((f) => f.name === d.name)) continue;
    const first = fields.find((f) => f.name === d.sum[0]);
    const second = fields.find((f) => f.name === d.sum[1]);
    const at = fields.findIndex((f) => f.name === d.after);
    if (!first || !second || at < 0) throw new Error(`derived column ${d.name}: the schema lacks ${!first ? d.sum[0] : !second ? d.sum[1] : d.after}`);
    fields.splice(at + 1, 0, new Field(d.name, first.type, first.nullable || second.nullable));
  }
  return new Schema(fields, stored.metadata);
}

/**
 * The derived columns a file with the `present` columns computes: those it does not store
 * while it stores both summands (a file of an older version stores the column itself).
 */
export function derivedIn(derived: readonly DerivedColumn[], present: ReadonlySet<string>): DerivedColumn[] {
  return derived.filter((d) => !present.has(d.name) && present.has(d.sum[0]) && present.has(d.sum[1]));
}

/** The sum of two int64 values in int64 (wrapping as the writer's subtraction did: exact). */
export function int64Sum(a: bigint, b: bigint): bigint {
  return BigInt.asIntN(64, a + b);
}
