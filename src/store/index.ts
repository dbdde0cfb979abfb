/** Builds the configured store: the local directory or S3 (optionally client-side encrypted). */
import type { Logger } from 'pino';
import { effectiveBackend, type Config } from '../config/index.js';
import { EncryptedStore, loadMasterKey } from './encrypted.js';
import { LocalStore } from './local.js';
import type { ObjectStore, StoreRequestHook } from './object-store.js';
import { credentialsFor } from './s3-credentials.js';
import { prepareBucket } from './s3-setup.js';
import { S3Store, type S3StoreOptions } from './s3.js';

export type { ListOptions, ObjectInfo, ObjectStore, StoreRequestHook } from './object-store.js';
export { LocalStore } from './local.js';
export { S3Store } from './s3.js';

const MIB = 1024 * 1024;

export function s3StoreOptions(config: Config): S3StoreOptions {
  const s3 = config.s3;
  const sse = s3.encryption.type === 'AES256' || s3.encryption.type === 'aws:kms' ? s3.encryption.type : undefined;
  const credentials = credentialsFor(config);
  return {
    bucket: s3.bucket,
    prefix: s3.prefix,
    region: s3.region,
    ...(s3.endpoint ? { endpoint: s3.endpoint } : {}),
    forcePathStyle: s3.force_path_style,
    ...(credentials ? { credentials } : {}),
    storageClass: s3.storage_class,
    tags: s3.tags,
    ...(sse ? { serverSideEncryption: { type: sse, ...(s3.encryption.kms_key_id ? { kmsKeyId: s3.encryption.kms_key_id } : {}) } } : {}),
    multipart: {
      enabled: s3.multipart.enabled,
      thresholdBytes: s3.multipart.threshold_mb * MIB,
      partSizeBytes: s3.multipart.part_size_mb * MIB,
      maxConcurrent: s3.multipart.max_concurrent_uploads,
    },
    retryAttempts: config.operations.retry_attempts,
    timeoutMs: config.operations.timeout_seconds * 1000,
  };
}

/**
 * Creates the store and, for S3, runs the bucket preflight before anything is accepted.
 * `readOnly` (the CLI's query commands) skips the preflight, which writes. `onRequest` observes
 * every request of either store (metrics).
 */
export async function openStore(
  config: Config,
  logger: Logger,
  instanceId: string,
  options: { readonly readOnly?: boolean; readonly overrides?: Partial<S3StoreOptions>; readonly onRequest?: StoreRequestHook } = {},
): Promise<ObjectStore> {
  const onRequest = options.onRequest ? { onRequest: options.onRequest } : {};
  if (effectiveBackend(config) === 'local') return new LocalStore(config.storage.local_path, onRequest);
  const s3 = new S3Store({ ...s3StoreOptions(config), ...onRequest, ...options.overrides });
  if (!options.readOnly) {
    try {
      await prepareBucket(s3, config, logger, instanceId);
    } catch (err) {
      await s3.close();
      throw err;
    }
  }
  if (config.s3.encryption.type === 'client') return new EncryptedStore(s3, loadMasterKey(config.s3.encryption.client_key_file));
  return s3;
}
