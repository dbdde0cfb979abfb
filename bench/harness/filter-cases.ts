/**
 * The filter queries both query benches time against DuckDB (bench/query.ts on one ingest run,
 * bench/lake.ts on the lakes): one definition, so their numbers stay comparable.
 */
export type QueryCaseDef = [name: string, ours: () => Promise<number>, sql: string];

/** `post` runs a query on the port and returns its row count; `glob` is DuckDB's read_parquet(…) over the same files. */
export function filterCases(post: (body: Record<string, unknown>) => Promise<number>, glob: string): QueryCaseDef[] {
  return [
    [
      'selective filter',
      () => post({ dataset: 'traces', filter: "service_name = 'payment' AND status_code = 'ERROR'", select: ['trace_id', 'span_id', 'name', 'duration_ns'] }),
      `SELECT trace_id, span_id, name, duration_ns FROM ${glob} WHERE service_name = 'payment' AND status_code = 'ERROR'`,
    ],
    [
      'broad filter',
      () => post({ dataset: 'traces', filter: 'duration_ns > 10000000', select: ['trace_id', 'span_id', 'name', 'duration_ns'] }),
      `SELECT trace_id, span_id, name, duration_ns FROM ${glob} WHERE duration_ns > 10000000`,
    ],
  ];
}
