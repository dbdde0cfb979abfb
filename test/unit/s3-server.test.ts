/**
 * The test S3 server (scripts/s3-server.sh through test/helpers/s3-server.ts) speaks the S3
 * the product uses, and leaves nothing running once stopped.
 */
import { existsSync, readFileSync } from 'node:fs';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3ClientConfig, startS3Server, type S3Server } from '../helpers/s3-server.js';

const bucket = 's3pq-unit';

describe('test S3 server', { timeout: 120_000 }, () => {
  let server: S3Server;
  let s3: S3Client;

  beforeAll(async () => {
    server = await startS3Server();
    s3 = new S3Client(s3ClientConfig(server));
  }, 120_000);

  afterAll(async () => {
    s3?.destroy();
    await server?.stop();
  });

  it('creates a bucket and serves a byte range of an object', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'range/hello.txt', Body: 'hello, radosgw!' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'range/hello.txt', Range: 'bytes=7-13' }));
    expect(await got.Body!.transformToString()).toBe('radosgw');
    expect(got.ContentRange).toBe('bytes 7-13/15');
  });

  it('rejects a wrong secret', async (ctx) => {
    if (server.kind !== 'radosgw') ctx.skip(); // s3rver does not check SigV4 signatures
    const wrong = new S3Client({ ...s3ClientConfig(server), credentials: { accessKeyId: server.accessKeyId, secretAccessKey: 'wrong-secret' } });
    await expect(wrong.send(new PutObjectCommand({ Bucket: bucket, Key: 'nope', Body: 'x' }))).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    wrong.destroy();
  });

  it('lists a prefix page by page', async () => {
    for (let i = 0; i < 5; i++) {
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `list/k${i}`, Body: `object ${i}` }));
    }
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'listed-not/k9', Body: 'outside the prefix' }));
    const pages: string[][] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/', MaxKeys: 2, ContinuationToken: token }),
      );
      pages.push((page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      expect(pages.length).toBeLessThanOrEqual(5);
    } while (token);
    expect(pages).toEqual([['list/k0', 'list/k1'], ['list/k2', 'list/k3'], ['list/k4']]);
  });

  it('keeps the storage classes the product writes', async () => {
    const classes: StorageClass[] = ['STANDARD_IA', 'INTELLIGENT_TIERING', 'ONEZONE_IA'];
    if (server.kind === 'radosgw') classes.push('GLACIER_IR'); // s3rver 3.7.1 predates GLACIER_IR
    for (const storageClass of classes) {
      const key = `class/${storageClass}`;
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x', StorageClass: storageClass }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect(head.StorageClass).toBe(storageClass);
    }
  });

  it('encrypts with SSE-KMS and says so', async (ctx) => {
    if (server.kind !== 'radosgw') ctx.skip(); // s3rver accepts SSE headers and ignores them
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'kms/secret.txt',
        Body: 'encrypted at rest',
        ServerSideEncryption: 'aws:kms',
        SSEKMSKeyId: server.kmsKeyId,
      }),
    );
    expect(put.ServerSideEncryption).toBe('aws:kms');
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'kms/secret.txt' }));
    expect(head.ServerSideEncryption).toBe('aws:kms');
    expect(head.SSEKMSKeyId).toBe(server.kmsKeyId);
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'kms/secret.txt' }));
    expect(await got.Body!.transformToString()).toBe('encrypted at rest');
  });

  it('deletes several objects at once', async () => {
    const keys = [0, 1, 2, 3, 4].map((i) => `list/k${i}`);
    const deleted = await s3.send(
      new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }),
    );
    expect((deleted.Deleted ?? []).map((d) => d.Key).sort()).toEqual(keys);
    expect(deleted.Errors ?? []).toEqual([]);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'list/' }));
    expect(left.KeyCount).toBe(0);
  });

  it('stops: its processes are gone and its directory removed', async () => {
    const { pids, dir } = server;
    expect(pids.length).toBe(server.kind === 'radosgw' ? 3 : 1);
    expect(pids.every(running)).toBe(true);
    await server.stop();
    expect(pids.filter(running)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    await server.stop(); // a second stop is harmless
  });
});

/** True while `pid` runs; a zombie waiting for its (re)parent to reap it does not count. */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!existsSync('/proc')) return true;
  try {
    // /proc/PID/stat: "pid (comm) state ..."; Z is a zombie.
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0] !== 'Z';
  } catch {
    return false;
  }
}
