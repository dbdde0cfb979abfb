/**
 * Startup preflight for the S3 store: the bucket is reachable (or created when configured),
 * versioning and lifecycle rules are applied idempotently, and a probe object proves we can
 * write and delete. A failure says which bucket, region and endpoint, and what S3 answered.
 */
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type BucketLocationConstraint,
  type LifecycleRule,
  type TransitionStorageClass,
} from '@aws-sdk/client-s3';
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import { S3ParquetError } from '../errors.js';
import { isNotFound, s3ErrorCode, s3HttpStatus, transportCause } from './s3-errors.js';
import type { S3Store } from './s3.js';
import { redactUrl } from '../config/redact.js';

/** Lifecycle rules we own carry this ID prefix; other rules on the bucket are kept. */
export const LIFECYCLE_RULE_PREFIX = 's3pq-';
export const DATASETS = ['traces', 'logs', 'metrics'] as const;

function describeFailure(config: Config, err: unknown): string {
  const status = s3HttpStatus(err);
  const endpoint = config.s3.endpoint ? redactUrl(config.s3.endpoint) : 'AWS';
  const cause = transportCause(err);
  const message = (err as { message?: unknown } | null)?.message;
  // The cause (connection refused, DNS, TLS, timeout) or S3's own message; never just "Error".
  const detail = cause ?? (typeof message === 'string' && message !== '' && message !== s3ErrorCode(err) && message !== 'UnknownError' ? message : undefined);
  return `bucket "${config.s3.bucket}" (region ${config.s3.region}, endpoint ${endpoint}): ${s3ErrorCode(err)}${status ? ` (HTTP ${status})` : ''}${detail ? ` — ${detail}` : ''}`;
}

export function lifecycleRules(config: Config): LifecycleRule[] {
  const lc = config.s3.lifecycle;
  if (!lc) return [];
  const rules: LifecycleRule[] = [];
  for (const dataset of DATASETS) {
    if (lc.expire_days === 0 && lc.transition_days === 0) continue;
    const prefix = config.s3.prefix === '' ? `${dataset}/` : `${config.s3.prefix}/${dataset}/`;
    rules.push({
      ID: `${LIFECYCLE_RULE_PREFIX}${dataset}`,
      Status: 'Enabled',
      Filter: { Prefix: prefix },
      ...(lc.expire_days > 0 ? { Expiration: { Days: lc.expire_days } } : {}),
      ...(lc.transition_days > 0 ? { Transitions: [{ Days: lc.transition_days, StorageClass: lc.transition_storage_class as TransitionStorageClass }] } : {}),
    });
  }
  return rules;
}

/**
 * HEAD responses carry no body, so a 403 arrives without its S3 error code. A one-key listing
 * (a GET) fails the same way and says why: SignatureDoesNotMatch, InvalidAccessKeyId, ….
 */
async function explainHeadFailure(store: S3Store, Bucket: string, headErr: unknown): Promise<unknown> {
  try {
    await store.client.send(new ListObjectsV2Command({ Bucket, MaxKeys: 1 }));
    return headErr;
  } catch (err) {
    return err;
  }
}

export async function prepareBucket(store: S3Store, config: Config, logger: Logger, instanceId: string): Promise<void> {
  const { client } = store;
  const Bucket = config.s3.bucket;
  try {
    await client.send(new HeadBucketCommand({ Bucket }));
  } catch (err) {
    if (!isNotFound(err)) {
      const detailed = await explainHeadFailure(store, Bucket, err);
      throw new S3ParquetError('STORE_FAILED', `cannot reach ${describeFailure(config, detailed)}`, { cause: detailed });
    }
    if (!config.s3.create_bucket) {
      throw new S3ParquetError('STORE_FAILED', `${describeFailure(config, err)}: the bucket does not exist; create it or set s3.create_bucket = true`, { cause: err });
    }
    try {
      const location = config.s3.region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: config.s3.region as BucketLocationConstraint } };
      await client.send(new CreateBucketCommand({ Bucket, ...location }));
      logger.info({ bucket: Bucket, region: config.s3.region }, 'bucket created');
    } catch (createErr) {
      throw new S3ParquetError('STORE_FAILED', `cannot create ${describeFailure(config, createErr)}`, { cause: createErr });
    }
  }
  try {
    if (config.s3.versioning) {
      await client.send(new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: 'Enabled' } }));
    }
    const ours = lifecycleRules(config);
    if (config.s3.lifecycle) {
      let existing: LifecycleRule[] = [];
      try {
        existing = (await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules ?? [];
      } catch (err) {
        if (s3ErrorCode(err) !== 'NoSuchLifecycleConfiguration' && !isNotFound(err)) throw err;
      }
      const kept = existing.filter((r) => !r.ID?.startsWith(LIFECYCLE_RULE_PREFIX));
      if (kept.length + ours.length > 0) {
        await client.send(new PutBucketLifecycleConfigurationCommand({ Bucket, LifecycleConfiguration: { Rules: [...kept, ...ours] } }));
      }
    }
    // Prove we may write and delete before accepting any data.
    const probe = store.fullKey(`_preflight/${instanceId}`);
    await client.send(new PutObjectCommand({ Bucket, Key: probe, Body: new Uint8Array(0) }));
    await client.send(new DeleteObjectCommand({ Bucket, Key: probe }));
  } catch (err) {
    throw new S3ParquetError('STORE_FAILED', `preflight failed for ${describeFailure(config, err)}`, { cause: err });
  }
}
