/**
 * Where the examples write: the local directory `./example-data` by default, or an S3 bucket
 * when S3_BUCKET is set (S3_ENDPOINT for MinIO/Ceph/LocalStack, credentials from the usual
 * AWS_* variables). The test suite runs every example both ways.
 */
import { S3Config } from '../src/index.js';

export function exampleStore(env: NodeJS.ProcessEnv = process.env): S3Config {
  const bucket = env.S3_BUCKET;
  if (!bucket) return S3Config.local(env.EXAMPLE_DATA_DIR ?? './example-data');
  let s3 = S3Config.create()
    .withRegion(env.AWS_REGION ?? 'us-east-1')
    .withBucket(bucket)
    .withPrefix(env.S3_PREFIX ?? 'telemetry-data')
    .withCreateBucket(true);
  // Explicit keys when the caller passes them in `env`; otherwise the AWS_* variables of this process.
  s3 = env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY ? s3.withCredentials(env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY) : s3.withCredentialsFromEnv();
  if (env.S3_ENDPOINT) s3 = s3.withEndpoint(env.S3_ENDPOINT);
  return s3;
}
