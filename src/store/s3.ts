/**
 * The S3 store: the same key layout as the local store, under `s3://{bucket}/{prefix}/`.
 *
 * Small files go up in one PUT; files at or above the multipart threshold go through
 * @aws-sdk/lib-storage (parts in parallel, aborted on failure so no parts are left behind).
 * Either way an object is visible only once complete. Retries (exponential backoff with
 * jitter on throttling, 5xx and network errors; never on other 4xx) are the SDK's standard
 * retry strategy with `retry_attempts`.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
  type S3ClientConfig,
  type ServerSideEncryption,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { ListOptions, ObjectInfo, ObjectStore } from './object-store.js';
import { isNotFound, s3Error } from './s3-errors.js';
import { redactUrl } from '../config/redact.js';

export interface S3StoreOptions {
  readonly bucket: string;
  readonly prefix: string;
  readonly region: string;
  readonly endpoint?: string;
  readonly forcePathStyle: boolean;
  readonly credentials?: S3ClientConfig['credentials'];
  readonly storageClass: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly serverSideEncryption?: { readonly type: 'AES256' | 'aws:kms'; readonly kmsKeyId?: string };
  readonly multipart: { readonly enabled: boolean; readonly thresholdBytes: number; readonly partSizeBytes: number; readonly maxConcurrent: number };
  readonly retryAttempts: number;
  readonly timeoutMs: number;
  /**
   * Observes every request (metrics hook): operation, outcome, duration (SDK retries included)
   * and, for a failure, the error. A HEAD of a missing object is an answer, not a failure.
   */
  readonly onRequest?: (operation: string, ok: boolean, ms: number, error?: Error) => void;
}

export function createS3Client(o: Pick<S3StoreOptions, 'region' | 'endpoint' | 'forcePathStyle' | 'credentials' | 'retryAttempts' | 'timeoutMs'>): S3Client {
  return new S3Client({
    region: o.region,
    ...(o.endpoint ? { endpoint: o.endpoint } : {}),
    forcePathStyle: o.forcePathStyle,
    ...(o.credentials ? { credentials: o.credentials } : {}),
    maxAttempts: o.retryAttempts + 1,
    retryMode: 'standard',
    // S3-compatible servers (radosgw, MinIO, …) answer streamed bodies with the SDK's default
    // trailing checksums with 411; send checksums only where S3 requires them.
    ...(o.endpoint ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const, responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
    requestHandler: new NodeHttpHandler({ connectionTimeout: Math.min(o.timeoutMs, 30_000), requestTimeout: o.timeoutMs }),
  });
}

function tagging(tags: Readonly<Record<string, string>>): string | undefined {
  const entries = Object.entries(tags);
  if (entries.length === 0) return undefined;
  return entries.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

export class S3Store implements ObjectStore {
  readonly description: string;
  readonly client: S3Client;

  constructor(private readonly o: S3StoreOptions) {
    this.client = createS3Client(o);
    this.description = `s3://${o.bucket}/${o.prefix}${o.endpoint ? ` at ${redactUrl(o.endpoint)}` : ''}`;
  }

  fullKey(key: string): string {
    return this.o.prefix === '' ? key : `${this.o.prefix}/${key}`;
  }

  private async timed<T>(operation: string, key: string | undefined, run: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const out = await run();
      this.o.onRequest?.(operation, true, performance.now() - started);
      return out;
    } catch (err) {
      const error = s3Error(operation, this.o.bucket, key, err);
      const answered = operation === 'headObject' && isNotFound(err);
      this.o.onRequest?.(operation, answered, performance.now() - started, answered ? undefined : error);
      throw error;
    }
  }

  /** Object tags: the configured ones plus whatever the caller adds (dataset, schema version). */
  async put(key: string, body: Uint8Array, extraTags: Readonly<Record<string, string>> = {}): Promise<void> {
    const Key = this.fullKey(key);
    const tags = { ...this.o.tags, ...extraTags };
    const params: PutObjectCommandInput = {
      Bucket: this.o.bucket,
      Key,
      Body: body,
      ContentType: 'application/vnd.apache.parquet',
      StorageClass: this.o.storageClass as StorageClass,
      ...(this.o.serverSideEncryption ? { ServerSideEncryption: this.o.serverSideEncryption.type as ServerSideEncryption } : {}),
      ...(this.o.serverSideEncryption?.kmsKeyId ? { SSEKMSKeyId: this.o.serverSideEncryption.kmsKeyId } : {}),
    };
    const m = this.o.multipart;
    if (m.enabled && body.length >= m.thresholdBytes) {
      await this.timed('multipartUpload', Key, async () => {
        const upload = new Upload({
          client: this.client,
          params,
          queueSize: m.maxConcurrent,
          partSize: m.partSizeBytes,
          leavePartsOnError: false, // abort the upload: no orphan parts
          tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
        });
        await upload.done();
      });
      return;
    }
    const Tagging = tagging(tags);
    await this.timed('putObject', Key, () => this.client.send(new PutObjectCommand({ ...params, ...(Tagging ? { Tagging } : {}) })));
  }

  /**
   * `PutObject` with `If-None-Match: *` (AWS since 2024-08, radosgw: see docs/compaction.md):
   * a 412 (or 409, a concurrent conditional write) means the key exists.
   */
  async putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    const Key = this.fullKey(key);
    // A server that ignores If-None-Match would overwrite: looking first narrows that to a race
    // between this HEAD and the PUT (the lease's read-back and re-check cover the rest).
    if (await this.head(key)) return false;
    try {
      await this.timed('putObject', Key, () =>
        this.client.send(new PutObjectCommand({ Bucket: this.o.bucket, Key, Body: body, ContentType: 'application/json', IfNoneMatch: '*', StorageClass: this.o.storageClass as StorageClass })),
      );
      return true;
    } catch (err) {
      if (isPreconditionFailed(err)) return false;
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array> {
    const Key = this.fullKey(key);
    return this.timed('getObject', Key, async () => {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key }));
      return res.Body!.transformToByteArray();
    });
  }

  /** An explicit range (never a suffix range: not every S3 implementation gets those right). */
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    if (length <= 0) return new Uint8Array(0);
    const Key = this.fullKey(key);
    return this.timed('getObject', Key, async () => {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.o.bucket, Key, Range: `bytes=${offset}-${offset + length - 1}` }));
      return res.Body!.transformToByteArray();
    });
  }

  async head(key: string): Promise<ObjectInfo | null> {
    const Key = this.fullKey(key);
    try {
      return await this.timed('headObject', Key, async () => {
        const res = await this.client.send(new HeadObjectCommand({ Bucket: this.o.bucket, Key }));
        return { key, size: res.ContentLength ?? 0, lastModified: res.LastModified ?? new Date(0) };
      });
    } catch (err) {
      if (isNotFound(err) || (err as { code?: string }).code === 'NOT_FOUND') return null;
      throw err;
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    const strip = this.o.prefix === '' ? 0 : this.o.prefix.length + 1;
    let token: string | undefined;
    do {
      const res = await this.timed('listObjects', this.fullKey(prefix), () =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.o.bucket, Prefix: this.fullKey(prefix), ...(token ? { ContinuationToken: token } : options.startAfter !== undefined ? { StartAfter: this.fullKey(options.startAfter) } : {}) })),
      );
      for (const obj of res.Contents ?? []) {
        if (!obj.Key) continue;
        yield { key: obj.Key.slice(strip), size: obj.Size ?? 0, lastModified: obj.LastModified ?? new Date(0) };
      }
      token = res.IsTruncated ? res.NextContinuationToken : undefined;
    } while (token);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000).map((k) => ({ Key: this.fullKey(k) }));
      const res = await this.timed('deleteObjects', undefined, () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: this.o.bucket, Delete: { Objects: batch, Quiet: true } })),
      );
      const failed = res.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0]!;
        throw s3Error('deleteObjects', this.o.bucket, first.Key, { name: first.Code ?? 'DeleteFailed', message: `${failed.length} objects not deleted; first: ${first.Message ?? ''}` });
      }
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

/** Whether a conditional write was refused because the object exists (412, or 409 for a race). */
function isPreconditionFailed(err: unknown): boolean {
  let e: unknown = err;
  for (let i = 0; i < 3 && e; i++) {
    const x = e as { name?: string; $metadata?: { httpStatusCode?: number }; cause?: unknown };
    if (x.name === 'PreconditionFailed' || x.name === 'ConditionalRequestConflict') return true;
    const status = x.$metadata?.httpStatusCode;
    if (status === 412 || status === 409) return true;
    e = x.cause;
  }
  return false;
}
