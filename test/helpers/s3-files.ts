/** Reading what the daemon wrote to S3 back out, for DuckDB (which reads local files here). */
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { S3Server } from './s3-server.js';

export async function listKeys(client: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    for (const o of res.Contents ?? []) keys.push(o.Key!);
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** Downloads every object under `prefix` into `dir`, keeping the key layout. */
export async function downloadAll(client: S3Client, bucket: string, prefix: string, dir: string): Promise<string[]> {
  const keys = await listKeys(client, bucket, prefix);
  for (const key of keys) {
    const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const path = join(dir, key);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, await res.Body!.transformToByteArray());
  }
  return keys;
}

/** `aws s3 ls --recursive` against the test server, as an operator would list the lake. */
export async function awsS3Ls(server: S3Server, bucket: string): Promise<string> {
  const { stdout } = await promisify(execFile)('aws', ['--endpoint-url', server.endpoint, 's3', 'ls', '--recursive', `s3://${bucket}/`], {
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: server.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.secretAccessKey,
      AWS_DEFAULT_REGION: server.region,
      AWS_EC2_METADATA_DISABLED: 'true',
    },
  });
  return stdout;
}
