/**
 * Compaction on radosgw: conditional lease writes (If-None-Match), and a CLI killed
 * mid-compaction then run again over the bucket.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { WriteLog } from '../../src/log/write-log.js';
import { openStore } from '../../src/store/index.js';
import type { ObjectStore } from '../../src/store/object-store.js';
import { CLI, runCli } from '../helpers/cli.js';
import { changesFromBeginning, countSpans, engineOver, loggedKeys } from '../helpers/compaction.js';
import { writeLake, type LakeShape } from '../helpers/lake.js';
import { s3ClientConfig, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { waitFor } from '../helpers/wait.js';

const SHAPE: LakeShape = { files: 48, partitions: 6, spansPerFile: 40, seed: 5 };

let server: S3Server;
let work: string;

beforeAll(async () => {
  server = await startS3Server();
  work = await mkdtemp(join(tmpdir(), 's3pq-compact-s3-'));
}, 300_000);

afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

function s3Toml(bucket: string): string {
  return `[s3]\nendpoint = "${server.endpoint}"\nregion = "${server.region}"\nbucket = "${bucket}"\nforce_path_style = true\ncreate_bucket = true\n[s3.credentials]\ntype = "explicit"\naccess_key_id = "${server.accessKeyId}"\nsecret_access_key = "${server.secretAccessKey}"\n`;
}

const compactionToml = '[write_log]\nsettle_window_seconds = 2\n[compaction]\ninterval_seconds = 1\nlease_seconds = 5\ndelete_grace_seconds = 0\n[partitioning]\nmax_past_hours = 0\n';

async function storeFor(bucket: string): Promise<ObjectStore> {
  return openStore(parseConfigText(s3Toml(bucket)), createLogger('silent'), 'check');
}

async function parquetKeys(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list('traces/')) if (info.key.endsWith('.parquet')) out.push(info.key);
  return out.sort();
}

async function leases(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const info of store.list('_leases/')) out.push(info.key);
  return out;
}

describe('compaction on radosgw', () => {
  it('a conditional create refuses an existing key (If-None-Match honoured)', async () => {
    const store = await storeFor('compact-cond');
    try {
      await store.put('probe.txt', new Uint8Array([0])); // creates the bucket
      expect(await store.putIfAbsent('_leases/x.json', new TextEncoder().encode('a'))).toBe(true);
      expect(await store.putIfAbsent('_leases/x.json', new TextEncoder().encode('b'))).toBe(false);
      expect(new TextDecoder().decode(await store.get('_leases/x.json'))).toBe('a');
      // The server itself refuses: a PUT with If-None-Match on an existing key is a 412.
      const client = new S3Client(s3ClientConfig(server));
      try {
        const put = client.send(new PutObjectCommand({ Bucket: 'compact-cond', Key: '_leases/x.json', Body: 'c', IfNoneMatch: '*' }));
        await expect(put).rejects.toMatchObject({ $metadata: { httpStatusCode: 412 } });
      } finally {
        client.destroy();
      }
      expect(new TextDecoder().decode(await store.get('_leases/x.json'))).toBe('a');
    } finally {
      await store.close();
    }
  }, 120_000);

  it('CLI killed mid-compaction, then the CLI again: every span once, no orphans', async () => {
    const bucket = 'compact-lake';
    const spans = await writeLake(join(work, 'unused'), SHAPE, s3Toml(bucket));
    const configPath = join(work, 'c.toml');
    await writeFile(configPath, `${s3Toml(bucket)}${compactionToml}[wal]\ndir = ${JSON.stringify(join(work, 'wal'))}\n`);
    const store = await storeFor(bucket);
    try {
      expect((await parquetKeys(store)).length).toBe(SHAPE.files);
      const child = spawn(process.execPath, [CLI, 'compact', '--config', configPath], { stdio: 'ignore' });
      const exited = once(child, 'exit');
      await waitFor(async () => {
        for (const key of await leases(store)) {
          const body = JSON.parse(new TextDecoder().decode(await store.get(key).catch(() => new Uint8Array()))) as { outputs?: string[] };
          if ((body.outputs?.length ?? 0) > 0) return true;
        }
        return false;
      }, 120_000, 'a compaction with outputs');
      child.kill('SIGKILL');
      await exited;
      await waitFor(async () => {
        const r = await runCli(['compact', '--config', configPath]);
        if (r.code !== 0) throw new Error(r.stderr);
        return (await parquetKeys(store)).length === SHAPE.partitions && (await leases(store)).length === 0;
      }, 180_000, 'compaction finished after the kill');
      const log = new WriteLog({ store, instanceId: 'verify', settleWindowMs: 2000 });
      expect(await countSpans(engineOver(store, log))).toEqual({ rows: spans, distinct: spans });
      expect(await parquetKeys(store)).toEqual(await loggedKeys(store));
      const fed = await changesFromBeginning(new WriteLog({ store, instanceId: 'feed', settleWindowMs: 2000 }));
      expect(fed.reduce((n, f) => n + f.rows, 0)).toBe(spans);
    } finally {
      await store.close();
    }
  }, 600_000);
});
