/**
 * Promoted columns as configuration sees them: the column an attribute key becomes, the
 * dataset columns it must not take, and the check that reports a clash naming both sides.
 *
 * The dataset columns are listed here, on the ground floor, because configuration is validated
 * before any schema is built; test/unit/promoted-resource.test.ts pins this list to the
 * schemas in src/schema/ so the two cannot drift.
 */

/** `http.response.status_code` → `http_response_status_code`: a name every SQL engine accepts. */
export function promotedColumnName(attribute: string): string {
  return attribute.replace(/[^A-Za-z0-9_]/g, '_').toLowerCase();
}

/** The explicit types a list entry may name after a colon. */
export type PromotedEntryType = 'string' | 'int64' | 'double' | 'bool';

/** `"name"` or `"name:type"`: the attribute key of a list entry, and its type when one is named. */
export function parsePromotedEntry(entry: string): { readonly attribute: string; readonly type?: PromotedEntryType } {
  const colon = entry.lastIndexOf(':');
  if (colon <= 0) return { attribute: entry };
  const suffix = entry.slice(colon + 1);
  return suffix === 'string' || suffix === 'int64' || suffix === 'double' || suffix === 'bool' ? { attribute: entry.slice(0, colon), type: suffix } : { attribute: entry };
}

/** `"name"` or `"name:type"`: the attribute key of a list entry. */
export function promotedAttributeKey(entry: string): string {
  return parsePromotedEntry(entry).attribute;
}

const SOURCE_COLUMNS = [
  'service_name', 'resource_attributes', 'resource_dropped_attributes_count', 'resource_schema_url',
  'scope_name', 'scope_version', 'scope_attributes', 'scope_dropped_attributes_count', 'scope_schema_url',
];

/**
 * Every dataset's own columns as readers see them (without promoted ones): traces' `end_time` is
 * derived since schema version 3 (src/schema/derived.ts) and still a column a name may not take.
 */
export const DATASET_COLUMNS: Readonly<Record<'traces' | 'logs' | 'metrics', readonly string[]>> = {
  traces: [
    'trace_id', 'span_id', 'parent_span_id', 'trace_state', 'flags', 'name', 'kind', 'start_time', 'end_time', 'duration_ns',
    'status_code', 'status_message', ...SOURCE_COLUMNS, 'attributes', 'dropped_attributes_count', 'events',
    'dropped_events_count', 'links', 'dropped_links_count',
  ],
  logs: [
    'time', 'observed_time', 'severity_number', 'severity_text', 'body', 'body_type', 'trace_id', 'span_id', 'flags',
    'event_name', ...SOURCE_COLUMNS, 'attributes', 'dropped_attributes_count',
  ],
  metrics: [
    'time', 'start_time', 'metric_name', 'metric_description', 'metric_unit', 'metric_metadata', 'metric_type',
    'aggregation_temporality', 'is_monotonic', 'value', 'value_is_int', 'value_int', 'count', 'sum', 'min', 'max',
    'bucket_counts', 'explicit_bounds', 'exp_scale', 'exp_zero_count', 'exp_zero_threshold', 'exp_positive_offset',
    'exp_positive_bucket_counts', 'exp_negative_offset', 'exp_negative_bucket_counts', 'quantiles', 'exemplars', 'flags',
    ...SOURCE_COLUMNS, 'attributes',
  ],
};

export type PromotedListKey = 'promoted_attributes' | 'promoted_resource_attributes';

/** A clash at `schema.<dataset>.<key>[<index>]`. */
export interface PromotedClash {
  readonly key: PromotedListKey;
  readonly index: number;
  readonly attribute: string;
  readonly message: string;
}

/**
 * Clashes of one dataset's promoted columns (both lists) with its own columns and with each
 * other: two attributes that become one column name (`a.b` and `a_b`) would write one column
 * twice. Each issue sits at the later entry's path and names the other side.
 */
export function promotedColumnClashes(
  dataset: 'traces' | 'logs' | 'metrics',
  lists: { readonly promoted_attributes: readonly string[]; readonly promoted_resource_attributes: readonly string[] },
): PromotedClash[] {
  const issues: PromotedClash[] = [];
  const own = new Set(DATASET_COLUMNS[dataset]);
  const taken = new Map<string, { readonly path: string; readonly key: string; readonly attribute: string }>(); // by column
  for (const key of ['promoted_attributes', 'promoted_resource_attributes'] as const) {
    lists[key].forEach((entry, i) => {
      const path = `schema.${dataset}.${key}[${i}]`;
      const attribute = promotedAttributeKey(entry);
      const column = promotedColumnName(attribute);
      if (own.has(column)) {
        issues.push({ key, index: i, attribute, message: `"${attribute}" would be stored in column "${column}", which is a column of the ${dataset} dataset` });
        return;
      }
      const other = taken.get(column);
      if (other === undefined) taken.set(column, { path, key, attribute });
      // The same key twice in one list is the list's own "duplicate" error.
      else if (other.key !== key || other.attribute !== attribute) {
        issues.push({ key, index: i, attribute, message: `"${attribute}" would be stored in column "${column}", as ${other.path} ("${other.attribute}") is` });
      }
    });
  }
  return issues;
}
