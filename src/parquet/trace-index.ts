/**
 * The trace index: per file, what a lookup by one string column (traces: `trace_id`) needs to
 * rule the file out without opening it — a bloom filter of the column's values (`bloom.ts`).
 * The file writer builds it with the file and records it in the file's write-log entry (and
 * `log rebuild` recovers it from the footer bloom), so a lookup with no time range reads the
 * log — which the query engine holds in memory — and opens only the few candidate files,
 * instead of one footer per file.
 *
 * In an entry (or a checkpoint) a file carries `"index": {"column": "trace_id", "bloom": "v1:…"}`.
 * The object is optional and additive: readers that predate it ignore it, and a file without one
 * (older entries, a damaged index) is simply opened, as before — an index never hides data.
 */
import { buildBloom, parseBloom, type Bloom } from './bloom.js';

export interface FileIndexJson {
  readonly column: string;
  readonly bloom: string;
}

/** A file's index: the column it covers and its bloom filter (parsed on first use, then kept). */
export class FileIndex {
  private parsed: Bloom | null | undefined;

  constructor(
    readonly column: string,
    /** The filter as written (`v1:…`), kept to write it again (checkpoints, compaction). */
    readonly encoded: string,
    parsed?: Bloom,
  ) {
    this.parsed = parsed;
  }

  /** The parsed filter; null when it is unreadable (the file must then be opened). */
  get bloom(): Bloom | null {
    if (this.parsed === undefined) this.parsed = parseBloom(this.encoded);
    return this.parsed;
  }

  /** Bytes held in memory for this file (the text, and the bits once parsed). */
  get bytes(): number {
    return this.encoded.length * 2 + (this.parsed ? this.parsed.bytes : 0);
  }

  toJSON(): FileIndexJson {
    return { column: this.column, bloom: this.encoded };
  }

  /**
   * From an entry's `index` object; null (never a throw) when it is absent or malformed — a
   * filter that does not parse counts as no index, so `log rebuild` replaces it.
   */
  static fromJson(j: unknown): FileIndex | null {
    const o = j as Partial<FileIndexJson> | null | undefined;
    if (typeof o !== 'object' || o === null || typeof o.column !== 'string' || o.column === '' || typeof o.bloom !== 'string') return null;
    const bloom = parseBloom(o.bloom);
    return bloom ? new FileIndex(o.column, o.bloom, bloom) : null;
  }
}

/**
 * Distinct non-null values of a column, in order of first appearance. Files sorted by the column
 * hold each value in one run, so comparing with the previous value removes most repeats; the set
 * catches the rest.
 */
export function distinctValues(values: Iterable<string | null>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let last: string | null = null;
  for (const v of values) {
    if (v === null || v === last) continue;
    last = v;
    if (seen.has(v)) continue;
    seen.add(v);
    out.push(v);
  }
  return out;
}

/** The index of a file from its values of `column`. */
export function buildFileIndex(column: string, values: Iterable<string | null>): FileIndex {
  const distinct = distinctValues(values);
  return new FileIndex(column, buildBloom(distinct, distinct.length));
}
