/**
 * Fluent, immutable configuration for the library: `S3Config` (where files go) and
 * `ParquetConfig` (how they are encoded). Each `with…` returns a new object; nothing is checked
 * until the connector turns both into the daemon's `Config` with `validateConfigObject`, so the
 * library and `s3-parquet.toml` share one set of rules and error messages (with key paths).
 */
import type { Compression } from '../config/index.js';

/** The part of the TOML document a fluent config stands for. */
type Document = Record<string, Record<string, unknown>>;

function merge(doc: Document, table: string, values: Record<string, unknown>): Document {
  return { ...doc, [table]: { ...doc[table], ...values } };
}

function setIn(doc: Document, table: string, sub: string, values: Record<string, unknown>): Document {
  const t = doc[table] ?? {};
  return { ...doc, [table]: { ...t, [sub]: { ...(t[sub] as Record<string, unknown> | undefined), ...values } } };
}

const MIB = 1024 * 1024;

export type EncryptionType = 'none' | 'AES256' | 'aws:kms' | 'client';

/** Where the connector stores files: an S3 bucket (and prefix), or `S3Config.local(dir)`. */
export class S3Config {
  private constructor(private readonly doc: Document) {}

  /** An S3 store; set at least the bucket. Region defaults to us-east-1, credentials to the SDK chain. */
  static create(): S3Config {
    return new S3Config({ storage: { backend: 's3' } });
  }

  /** From the `[storage]`, `[s3]` and `[operations]` tables of a configuration document. */
  static fromDocument(doc: Readonly<Record<string, object>>): S3Config {
    const pick = (t: string): Record<string, unknown> => ({ ...(doc[t] as Record<string, unknown> | undefined) });
    return new S3Config({ storage: pick('storage'), s3: pick('s3'), operations: pick('operations') });
  }

  /** The local-directory store (the daemon's default backend): files under `dir`. */
  static local(dir: string): S3Config {
    return new S3Config({ storage: { backend: 'local', local_path: dir } });
  }

  private with(table: string, values: Record<string, unknown>): S3Config {
    return new S3Config(merge(this.doc, table, values));
  }

  withRegion(region: string): S3Config {
    return this.with('s3', { region });
  }

  withBucket(bucket: string): S3Config {
    return this.with('s3', { bucket });
  }

  /** A key prefix inside the bucket, without leading or trailing `/`. */
  withPrefix(prefix: string): S3Config {
    return this.with('s3', { prefix });
  }

  /** A custom endpoint (MinIO, Ceph, LocalStack): path-style addressing is used with it. */
  withEndpoint(endpoint: string, forcePathStyle = true): S3Config {
    return this.with('s3', { endpoint, force_path_style: forcePathStyle });
  }

  /** Credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN. */
  withCredentialsFromEnv(): S3Config {
    return new S3Config(setIn(this.doc, 's3', 'credentials', { type: 'env' }));
  }

  withCredentials(accessKeyId: string, secretAccessKey: string, sessionToken = ''): S3Config {
    return new S3Config(setIn(this.doc, 's3', 'credentials', { type: 'explicit', access_key_id: accessKeyId, secret_access_key: secretAccessKey, session_token: sessionToken }));
  }

  /** Server-side `AES256` or `aws:kms` (with a key id), or `client` (AES-GCM with a key file). */
  withEncryption(type: EncryptionType, key = ''): S3Config {
    const keyField = type === 'client' ? { client_key_file: key } : { kms_key_id: key };
    return new S3Config(setIn(this.doc, 's3', 'encryption', { type, ...keyField }));
  }

  /** Objects at least this large (bytes, rounded up to MiB, minimum 5 MiB) upload in parts. */
  withMultipartThreshold(bytes: number): S3Config {
    return new S3Config(setIn(this.doc, 's3', 'multipart', { threshold_mb: Math.ceil(bytes / MIB) }));
  }

  withMaxConcurrentUploads(n: number): S3Config {
    return new S3Config(setIn(this.doc, 's3', 'multipart', { max_concurrent_uploads: n }));
  }

  withStorageClass(storageClass: string): S3Config {
    return this.with('s3', { storage_class: storageClass });
  }

  /** Creates the bucket when missing (first use). */
  withCreateBucket(create = true): S3Config {
    return this.with('s3', { create_bucket: create });
  }

  withRetryAttempts(n: number): S3Config {
    return this.with('operations', { retry_attempts: n });
  }

  withTimeoutSeconds(seconds: number): S3Config {
    return this.with('operations', { timeout_seconds: seconds });
  }

  /** The `[storage]`, `[s3]` and `[operations]` tables this config stands for. */
  toDocument(): Document {
    return this.doc;
  }
}

/** How records are encoded: codec, row groups, pages, dictionary, statistics, bloom filters. */
export class ParquetConfig {
  private constructor(
    private readonly values: Record<string, unknown>,
    private readonly bloomOn = 'trace_id',
  ) {}

  /** The daemon's defaults: ZSTD, 100k-row groups, 64 KiB pages, dictionary and statistics on. */
  static create(): ParquetConfig {
    return new ParquetConfig({});
  }

  /** From the `[parquet]` table of a configuration document. */
  static fromDocument(doc: Readonly<Record<string, object>>): ParquetConfig {
    return new ParquetConfig({ ...(doc.parquet as Record<string, unknown> | undefined) });
  }

  private with(values: Record<string, unknown>): ParquetConfig {
    return new ParquetConfig({ ...this.values, ...values }, this.bloomOn);
  }

  /** UNCOMPRESSED, SNAPPY, GZIP, LZ4 (written as LZ4_RAW), ZSTD or BROTLI; case-insensitive. */
  withCompression(codec: Compression | Lowercase<Compression> | string): ParquetConfig {
    return this.with({ compression: codec.toUpperCase() });
  }

  /**
   * The codec's compression level: ZSTD 1–22, GZIP 1–9, BROTLI 0–11 (`[parquet]
   * compression_level`); unset keeps the codec's default (ZSTD 1). Checked when the connector is
   * built: a level the codec does not take is a CONFIG_INVALID naming `parquet.compression_level`.
   */
  withCompressionLevel(level: number): ParquetConfig {
    return this.with({ compression_level: level });
  }

  withRowGroupSize(rows: number): ParquetConfig {
    return this.with({ row_group_size: rows });
  }

  withPageSize(bytes: number): ParquetConfig {
    return this.with({ page_size: bytes });
  }

  withDictionaryEnabled(enabled: boolean): ParquetConfig {
    return this.with({ dictionary_enabled: enabled });
  }

  withStatisticsEnabled(enabled: boolean): ParquetConfig {
    return this.with({ statistics_enabled: enabled });
  }

  /**
   * A bloom filter per file over one string field (default `trace_id`), kept in the footer, so
   * `field = '…'` lookups skip files that cannot hold the value. Files whose schema lacks the
   * field get none.
   */
  withBloomFilterEnabled(enabled: boolean, field = 'trace_id'): ParquetConfig {
    return new ParquetConfig({ ...this.values, bloom_filter_enabled: enabled }, field);
  }

  /** The string field bloom filters cover. */
  get bloomField(): string {
    return this.bloomOn;
  }

  toDocument(): Document {
    return { parquet: this.values };
  }
}
