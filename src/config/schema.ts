/**
 * The configuration schema. Every key has a default, so an empty file (or no
 * file) is a valid configuration. Tables are strict: a misspelt key is an error
 * rather than a silently ignored setting.
 *
 * Error messages here only say what was expected; load.ts appends the offending
 * value (", got ...") so it can leave secrets out of the report.
 */
import { isIPv6 } from 'node:net';
import * as z from 'zod';

export const COMPRESSIONS = ['UNCOMPRESSED', 'SNAPPY', 'GZIP', 'LZ4', 'ZSTD', 'BROTLI'] as const;
export type Compression = (typeof COMPRESSIONS)[number];
export const GRANULARITIES = ['minute', 'hour', 'day'] as const;
export type Granularity = (typeof GRANULARITIES)[number];
export const STORAGE_BACKENDS = ['auto', 'local', 's3'] as const;
export type StorageBackend = (typeof STORAGE_BACKENDS)[number];
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const DEFAULT_PROMOTED = ['http.request.method', 'http.response.status_code', 'url.path', 'server.address'];

/**
 * Semantic-convention resource attributes with dedicated columns by default (schema version 2):
 * the ones an SDK and its resource detectors usually set (service, host, Kubernetes pod, SDK).
 * Few on purpose: a column that stays NULL still costs the daemon CPU on every row (its
 * offsets and validity are appended, sorted, shipped to the encoder): the bench's trace load
 * measured ~1 % of the daemon's CPU per always-NULL column (bench/NOTES.md, h-schema7).
 */
export const DEFAULT_PROMOTED_RESOURCE = [
  'service.version',
  'service.instance.id',
  'deployment.environment.name',
  'host.name',
  'k8s.namespace.name',
  'k8s.pod.name',
  'telemetry.sdk.language',
];

import { operationsSchema, s3Schema } from './s3-schema.js';
import { partitionKeySchema } from './partition-keys-schema.js';
import { authSchema, checkHttpTimeouts, grpcServerKeys, httpServerKeys, tlsSchema } from './security-schema.js';
import { levelProblem } from '../parquet/levels.js';
import { promotedAttributeKey, promotedColumnClashes, promotedColumnName } from './promoted-columns.js';
import { asString, bool, checked, nonEmpty, oneOf, positiveNumber, str, table, wholeNumber } from './fields.js';

// ---- endpoint --------------------------------------------------------------

/** Splits "host:port" / "[ipv6]:port"; returns a problem description on failure. */
function splitEndpoint(s: string): { host: string; port: number } | string {
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return 'missing "]" after the IPv6 address';
    host = s.slice(1, close);
    if (!isIPv6(host)) return `"${host}" is not an IPv6 address`;
    if (s[close + 1] !== ':') return 'expected ":port" after "]"';
    portText = s.slice(close + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return 'expected "host:port" or "[ipv6]:port"';
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) return 'an IPv6 address must be in brackets, e.g. "[::1]:4317"';
    if (host === '') return 'the host is empty';
    if (!/^[A-Za-z0-9._-]+$/.test(host)) return 'the host may only contain letters, digits, ".", "_" and "-"';
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    return 'the port must be a whole number between 0 and 65535';
  }
  return { host, port: Number(portText) };
}

/** Parses a validated endpoint; the host comes back without IPv6 brackets. */
export function parseEndpoint(endpoint: string): { host: string; port: number } {
  const r = splitEndpoint(endpoint);
  if (typeof r === 'string') throw new Error(`invalid endpoint "${endpoint}": ${r}`);
  return r;
}

function endpointProblem(s: string): string | undefined {
  const r = splitEndpoint(s);
  return typeof r === 'string' ? r : undefined;
}

const endpoint = (def: string) => checked(str('expected "host:port"'), endpointProblem).default(def);

// ---- partition format ------------------------------------------------------

const DIRECTIVES = new Set(['Y', 'm', 'd', 'H', 'M', 'j', '%']);

/**
 * The format becomes part of object keys / file paths, so anything that could
 * escape the output directory or produce odd keys is refused up front.
 */
function partitionFormatProblem(fmt: string): string | undefined {
  if (fmt.includes('\\')) return 'must not contain a backslash';
  if (fmt.startsWith('/')) return 'must not start with "/"';
  if (fmt.includes('..')) return 'must not contain ".."';
  if (/[\u0000-\u001f\u007f]/.test(fmt)) return 'must not contain control characters';
  const segments = fmt.split('/');
  if (segments.includes('')) return 'must not contain empty path segments ("//" or a trailing "/")';
  if (segments.includes('.')) return 'must not contain "." path segments';
  let sawYear = false;
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== '%') continue;
    const d = fmt[i + 1];
    if (d === undefined) return 'ends with a lone "%" (write "%%" for a literal "%")';
    if (!DIRECTIVES.has(d)) return `unsupported directive "%${d}" (supported: %Y %m %d %H %M %j %%)`;
    if (d === 'Y') sawYear = true;
    i++; // skip the directive letter so "%%Y" is a literal "%Y"
  }
  return sawYear ? undefined : 'must contain %Y';
}

// ---- misc checks -----------------------------------------------------------

const INSTANCE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

function instanceIdProblem(s: string): string | undefined {
  if (s === '') return undefined; // derived from hostname + pid at runtime
  // "." and ".." match the character class but would be path traversal if the id lands in a path.
  if (!INSTANCE_ID.test(s) || s === '.' || s === '..') {
    return 'expected "" (derive from hostname and pid) or 1-64 characters from [A-Za-z0-9_.-]';
  }
  return undefined;
}

const compression = z.preprocess(
  asString,
  z.string({ error: `expected one of ${COMPRESSIONS.join(', ')}` }).transform((s, ctx): Compression => {
    const upper = s.toUpperCase();
    const match = COMPRESSIONS.find((c) => c === upper);
    if (match !== undefined) return match;
    ctx.issues.push({ code: 'custom', message: `expected one of ${COMPRESSIONS.join(', ')} (any case)`, input: s });
    return z.NEVER;
  }),
);

function attributeList(defaults: readonly string[]) {
  return attributeNames().default(() => [...defaults]);
}

function attributeNames() {
  const name = nonEmpty('expected a non-empty attribute name');
  return z
    .array(name, { error: 'expected an array of attribute names' })
    .superRefine(
      (list, ctx) => {
        const firstIndex = new Map<string, number>();
        list.forEach((attr, i) => {
          if (typeof attr !== 'string' || attr === '') return; // already reported as invalid
          const first = firstIndex.get(attr);
          if (first === undefined) firstIndex.set(attr, i);
          else ctx.addIssue({ code: 'custom', message: `duplicate attribute name (first at [${first}])`, path: [i], input: attr });
        });
      },
      // Run even when some elements are invalid, so duplicates show up in the same report.
      { when: (payload) => Array.isArray(payload.value) },
    );
}

/**
 * `[schema.<dataset>]`: promoted attributes (the record's) and dedicated resource columns, with
 * every column name clash of the lists as given reported at its entry's path
 * (promoted-columns.ts). When `promoted_resource_attributes` is not given, its default leaves
 * out what `promoted_attributes` already makes a column of: a configuration that promoted, say,
 * `k8s.pod.name` as a record attribute before version 2 keeps loading.
 */
function promotedTable(dataset: 'traces' | 'logs' | 'metrics', promoted: readonly string[]) {
  return table({
    promoted_attributes: attributeList(promoted),
    promoted_resource_attributes: attributeNames().optional(),
  })
    .superRefine((lists, ctx) => {
      const given = { ...lists, promoted_resource_attributes: lists.promoted_resource_attributes ?? [] };
      for (const c of promotedColumnClashes(dataset, given)) ctx.addIssue({ code: 'custom', message: c.message, path: [c.key, c.index], input: c.attribute });
    })
    .transform((lists) => ({
      promoted_attributes: lists.promoted_attributes,
      promoted_resource_attributes: lists.promoted_resource_attributes ?? defaultResourceColumns(lists.promoted_attributes),
    }));
}

function defaultResourceColumns(promoted: readonly string[]): string[] {
  const taken = new Set(promoted.map((e) => promotedColumnName(promotedAttributeKey(e))));
  return DEFAULT_PROMOTED_RESOURCE.filter((a) => !taken.has(promotedColumnName(a)));
}

// ---- the schema --------------------------------------------------------------

export const configSchema = table({
  receivers: table({
    grpc: table({
      enabled: bool().default(true),
      endpoint: endpoint('0.0.0.0:4317'),
      max_recv_msg_size_mib: wholeNumber(1, 1024).default(64),
      ...grpcServerKeys,
      tls: tlsSchema,
    }),
    http: table({
      enabled: bool().default(true),
      endpoint: endpoint('0.0.0.0:4318'),
      // Applied to the decompressed body, so gzip bombs are bounded too.
      max_request_body_mib: wholeNumber(1, 1024).default(64),
      ...httpServerKeys(1000),
      tls: tlsSchema,
    }).superRefine(checkHttpTimeouts),
  }),
  storage: table({
    // "auto": S3 when s3.bucket is set, else the local directory.
    backend: oneOf(STORAGE_BACKENDS).default('auto'),
    local_path: nonEmpty('expected a non-empty path').default('./data'),
    instance_id: checked(str(), instanceIdProblem).default(''),
  }),
  parquet: table({
    compression: compression.default('ZSTD'),
    // Unset: the codec's default (parquet-wasm: ZSTD 1). ZSTD 1–22, GZIP 1–9, BROTLI 0–11.
    compression_level: wholeNumber(0).optional(),
    row_group_size: wholeNumber(1).default(100_000),
    page_size: wholeNumber(1024).default(65_536),
    dictionary_enabled: bool().default(true),
    statistics_enabled: bool().default(true),
    bloom_filter_enabled: bool().default(false),
    // Per-column encodings from src/schema (delta for ids and timestamps, byte-stream-split for
    // doubles); false keeps a dictionary with PLAIN fallback everywhere, for older readers.
    column_encodings_enabled: bool().default(true),
    // Worker threads that sort and encode flushes, off the receivers' event loop; 0 encodes on
    // the event loop. Each holds its own wasm memory, so the default is sized for a sidecar.
    encode_workers: wholeNumber(0, 64).default(0),
  }).superRefine((p, ctx) => {
    const problem = p.compression_level === undefined ? undefined : levelProblem(p.compression, p.compression_level);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, path: ['compression_level'], input: p.compression_level });
  }),
  partitioning: table({
    granularity: oneOf(GRANULARITIES).default('hour'),
    format: checked(str(), partitionFormatProblem).default('date=%Y-%m-%d/hour=%H'),
    by_service: bool().default(false),
    // Hash and range levels after the time levels (docs/layout.md); [] is none.
    keys: z.array(partitionKeySchema, { error: 'expected an array of tables' }).default([]),
    // The event-time window around a record's receive time (partitioning/time-window.ts); 0 = no limit.
    max_past_hours: wholeNumber(0).default(720),
    max_future_minutes: wholeNumber(0).default(60),
    outside_window: oneOf(['refuse', 'receive_time'] as const).default('refuse'),
  }),
  buffer: table({
    max_rows: wholeNumber(1).default(100_000),
    max_bytes_mb: positiveNumber().default(64),
    max_age_seconds: positiveNumber().default(60),
    // Buffered plus in-flight data; above it receivers answer retryably (503 / UNAVAILABLE).
    memory_limit_mb: positiveNumber().default(512),
    // Distinct partitions buffered at once; records of new partitions beyond it are refused
    // (partial success, retryable later) so one request cannot make thousands of files.
    max_partitions: wholeNumber(1).default(1000),
  }),
  wal: table({
    enabled: bool().default(true),
    dir: str().default(''), // "": {storage.local_path}/.wal for the local store, ./wal otherwise
    fsync: oneOf(['always', 'interval', 'never'] as const).default('always'),
    fsync_interval_ms: wholeNumber(1, 60_000).default(200),
    max_size_mb: positiveNumber().default(1024),
    segment_size_mb: positiveNumber().default(64),
  }),
  schema: table({
    // At startup the daemon refuses a schema the newest stored files cannot be read with.
    allow_incompatible_changes: bool().default(false),
    traces: promotedTable('traces', DEFAULT_PROMOTED),
    logs: promotedTable('logs', DEFAULT_PROMOTED),
    metrics: promotedTable('metrics', []),
  }),
  query: table({
    enabled: bool().default(true),
    // Loopback by default: the query port exposes stored data.
    endpoint: endpoint('127.0.0.1:8081'),
    footer_cache_entries: wholeNumber(1, 1_000_000).default(512),
    // Query isolation (docs/query-limits.md): queries run on worker threads, never on the
    // receivers' event loop. Defaults are sized for a sidecar next to one service.
    workers: wholeNumber(1, 64).default(1),
    max_concurrent_queries: wholeNumber(1, 1024).default(4),
    timeout_seconds: positiveNumber().default(60),
    max_memory_mb_per_query: wholeNumber(32, 65_536).default(256),
    max_json_response_mb: wholeNumber(1, 4096).default(16),
    max_filter_bytes: wholeNumber(16, 1_048_576).default(16_384),
    max_filter_depth: wholeNumber(1, 1000).default(64),
    // Linux nice value of the query worker threads, so ingest wins the CPU (0: same as the daemon).
    worker_nice: wholeNumber(0, 19).default(10),
    ...httpServerKeys(100, 16),
    tls: tlsSchema,
  }).superRefine(checkHttpTimeouts),
  // The write log (docs/write-log.md): one entry per flush under {prefix}/_log/{dataset}/.
  write_log: table({
    enabled: bool().default(true),
    // How far a writer's clock may lag a reader's (plus an append's duration): cursors re-read
    // this much of the log, so a late entry is never skipped.
    settle_window_seconds: positiveNumber().default(30),
    max_entries_per_read: wholeNumber(1, 100_000).default(1000),
    // The query port folds entries into a new checkpoint beyond this many (0: only log rebuild).
    compact_after_entries: wholeNumber(0, 100_000).default(500),
    // Each traces file's trace-id bloom filter in its entry (the trace index): a lookup with no
    // time range opens only the candidate files, not one footer per file (docs/trace-index.md).
    trace_index: bool().default(true),
  }),
  // Compaction (docs/compaction.md): closed partitions' small files merged into few large ones,
  // swapped in one write-log entry; needs the write log.
  compaction: table({
    enabled: bool().default(true),
    interval_seconds: positiveNumber().default(300),
    // A partition is due once its time window ended this long ago (late data has mostly landed).
    min_partition_age_seconds: wholeNumber(0).default(900),
    target_file_size_mb: wholeNumber(1, 65_536).default(256),
    // Replaced files stay this long so external queries that listed them finish (0: at once).
    delete_grace_seconds: wholeNumber(0).default(300),
    // The per-partition lease: renewed while a compaction runs; a holder that died loses it after this.
    lease_seconds: wholeNumber(5, 86_400).default(600),
  }),
  // Bearer tokens, separately for writing (receivers) and reading (query port).
  auth: authSchema,
  s3: s3Schema,
  operations: operationsSchema,
  // GET /metrics, /healthz, /readyz: on the query port when `endpoint` is "" (or the query
  // endpoint); with the query port disabled, on a listener of their own at that address.
  telemetry: table({
    enabled: bool().default(true),
    endpoint: checked(str('expected "" or "host:port"'), (s) => (s === '' ? undefined : endpointProblem(s))).default(''),
  }),
  log: table({
    level: oneOf(LOG_LEVELS).default('info'),
  }),
});

/** The store a config selects: "auto" means S3 when a bucket is configured. */
export function effectiveBackend(config: { storage: { backend: string }; s3: { bucket: string } }): 'local' | 's3' {
  if (config.storage.backend === 'auto') return config.s3.bucket !== '' ? 's3' : 'local';
  return config.storage.backend as 'local' | 's3';
}

export type Config = z.output<typeof configSchema>;
