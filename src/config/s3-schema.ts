/**
 * `[s3]` and `[operations]`: the S3 store, with every option of the classic connector's
 * `s3-parquet.toml`. Cross-field rules (a bucket when the backend is S3, keys for explicit
 * credentials, …) are checked in `s3Problems`, which load.ts runs after the schema.
 */
import * as z from 'zod';
import { bool, checked, oneOf, optionalTable, str, stringMap, table, wholeNumber } from './fields.js';

export const CREDENTIAL_TYPES = ['default', 'env', 'profile', 'explicit'] as const;
export const ENCRYPTION_TYPES = ['none', 'AES256', 'aws:kms', 'client'] as const;
export const STORAGE_CLASSES = [
  'STANDARD',
  'REDUCED_REDUNDANCY',
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'GLACIER_IR',
  'DEEP_ARCHIVE',
  'EXPRESS_ONEZONE',
] as const;

/** S3 bucket naming rules (the common subset every S3 implementation accepts). */
export function bucketProblem(name: string): string | undefined {
  if (name === '') return undefined; // checked against the backend in s3Problems
  if (name.length < 3 || name.length > 63) return 'a bucket name has 3 to 63 characters';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) return 'a bucket name uses lowercase letters, digits, "." and "-", and starts and ends with a letter or digit';
  if (name.includes('..')) return 'a bucket name must not contain ".."';
  return undefined;
}

/** The prefix becomes the first part of every key; keep it a clean relative path. */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix === '') return undefined;
  if (prefix.startsWith('/') || prefix.endsWith('/')) return 'must not start or end with "/"';
  if (prefix.split('/').some((s) => s === '' || s === '.' || s === '..')) return 'must not contain empty, "." or ".." segments';
  return undefined;
}

function endpointUrlProblem(url: string): string | undefined {
  if (url === '') return undefined;
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? undefined : 'expected an http:// or https:// URL';
  } catch {
    return 'expected a URL such as "http://127.0.0.1:9000"';
  }
}

export const s3Schema = table({
  region: str().default('us-east-1'),
  bucket: checked(str(), bucketProblem).default(''),
  prefix: checked(str(), prefixProblem).default(''),
  endpoint: checked(str(), endpointUrlProblem).default(''),
  force_path_style: bool().default(false),
  storage_class: oneOf(STORAGE_CLASSES).default('STANDARD'),
  create_bucket: bool().default(false),
  versioning: bool().default(false),
  tags: stringMap().default({}),
  credentials: table({
    type: oneOf(CREDENTIAL_TYPES).default('default'),
    profile: str().default('default'),
    access_key_id: str().default(''),
    secret_access_key: str().default(''),
    session_token: str().default(''),
    role_arn: str().default(''),
  }),
  encryption: table({
    type: oneOf(ENCRYPTION_TYPES).default('none'),
    kms_key_id: str().default(''),
    client_key_file: str().default(''),
  }),
  multipart: table({
    enabled: bool().default(true),
    threshold_mb: wholeNumber(5, 5 * 1024 * 1024).default(100),
    part_size_mb: wholeNumber(5, 5 * 1024).default(16),
    max_concurrent_uploads: wholeNumber(1, 64).default(10),
  }),
  lifecycle: optionalTable({
    expire_days: wholeNumber(0).default(30),
    transition_days: wholeNumber(0).default(0),
    transition_storage_class: oneOf(STORAGE_CLASSES).default('STANDARD_IA'),
  }),
});

export const operationsSchema = table({
  retry_attempts: wholeNumber(0, 100).default(3),
  timeout_seconds: wholeNumber(1, 86_400).default(300),
});

type S3Config = z.output<typeof s3Schema>;

/** Rules that span several keys; each problem is [dotted path, message]. */
export function s3Problems(backend: string, s3: S3Config): [string, string][] {
  const out: [string, string][] = [];
  if (backend === 's3' && s3.bucket === '') out.push(['s3.bucket', 'required when storage.backend = "s3"']);
  const c = s3.credentials;
  if (c.type === 'explicit') {
    if (c.access_key_id === '') out.push(['s3.credentials.access_key_id', 'required when credentials.type = "explicit"']);
    if (c.secret_access_key === '') out.push(['s3.credentials.secret_access_key', 'required when credentials.type = "explicit"']);
  }
  if (s3.encryption.type === 'client' && s3.encryption.client_key_file === '') {
    out.push(['s3.encryption.client_key_file', 'required when encryption.type = "client"']);
  }
  if (s3.multipart.part_size_mb > s3.multipart.threshold_mb) {
    out.push(['s3.multipart.part_size_mb', `must not exceed threshold_mb (${s3.multipart.threshold_mb})`]);
  }
  const lc = s3.lifecycle;
  if (lc && lc.expire_days > 0 && lc.transition_days > 0 && lc.transition_days >= lc.expire_days) {
    out.push(['s3.lifecycle.transition_days', `must be less than expire_days (${lc.expire_days})`]);
  }
  return out;
}
