/**
 * How a dataset's rows are laid out in a file, beyond the Arrow schema: the order rows are
 * written in and, per top-level column, a Parquet encoding that suits its values better than a
 * dictionary. Both change bytes only — every Parquet reader decodes them to the same values —
 * so they are not part of the versioned contract and may be tuned without a new schema version.
 *
 * Only top-level columns can be named: parquet-wasm 0.8 takes a column path as one string and
 * never matches the nested leaves of maps and lists, which keep the writer's defaults
 * (dictionary, PLAIN fallback).
 */

/** Parquet encodings a column may be written with instead of a dictionary. */
export type ColumnEncoding = 'PLAIN' | 'DELTA_BINARY_PACKED' | 'DELTA_LENGTH_BYTE_ARRAY' | 'DELTA_BYTE_ARRAY' | 'BYTE_STREAM_SPLIT';

export interface StorageLayout {
  /** Columns each file's rows are ordered by (ascending, nulls last, stable). */
  readonly sortBy: readonly string[];
  /**
   * Top-level columns written without a dictionary, in the given encoding. Columns not named
   * keep the `[parquet]` defaults.
   */
  readonly encodings: Readonly<Record<string, ColumnEncoding>>;
  /**
   * At most this many rows per row group (below `[parquet] row_group_size`). parquet-wasm 0.8
   * cannot bound a page's rows, but a row group bounds every page in it: a lookup then decodes
   * the nested columns' pages of a few thousand rows, not 20,000.
   */
  readonly rowGroupRows?: number;
  /**
   * Smaller data pages than `[parquet] page_size`, so a reader that needs a few rows (a lookup,
   * through the offset index) decodes a few hundred rows a column, not the row group's
   * thousands. parquet-wasm 0.8 cannot bound a page's rows; it closes a page once its encoded
   * bytes reach the limit, checked after each write batch of `writeBatchRows` rows (for byte
   * arrays, of as many values as fit the limit). `pageBytes` is that limit.
   */
  readonly pageBytes?: number;
  /** Rows handed to the page encoder at a time (parquet-rs default 1,024): a page's row granularity. */
  readonly writeBatchRows?: number;
}

/**
 * Typical choices, named so the dataset tables read as intent:
 * - random ids (hex text, near-unique): a dictionary only adds an index per value; their
 *   lengths are constant, so DELTA_LENGTH_BYTE_ARRAY stores the bytes and almost nothing else.
 * - nanosecond timestamps and durations: DELTA_BINARY_PACKED keeps only the significant bits
 *   (a dictionary of unique int64s is larger than the values).
 * - doubles: BYTE_STREAM_SPLIT groups exponent and mantissa bytes so ZSTD finds the runs.
 */
export const RANDOM_ID: ColumnEncoding = 'DELTA_LENGTH_BYTE_ARRAY';
export const NANOS: ColumnEncoding = 'DELTA_BINARY_PACKED';
export const INTEGER: ColumnEncoding = 'DELTA_BINARY_PACKED';
export const DOUBLE: ColumnEncoding = 'BYTE_STREAM_SPLIT';
