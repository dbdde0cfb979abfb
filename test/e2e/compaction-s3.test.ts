/**
 * Compaction on radosgw: conditional lease writes (If-None-Match); a daemon killed -9 mid-merge,
 * mid-upload and mid-swap (at the named pause points of src/compaction/pause-point.ts), then
 * restarted; a daemon and the CLI compacting one bucket at once; a CLI killed mid-compaction
 * then run again. After each: every span exactly once through the query port and through DuckDB
 * over the downloaded objects, no orphaned outputs, no lease left.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CopyObjectCommand, CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { PAUSE_ENV, type PausePoint } from '../../src/compaction/pause-point.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { createLogger } from '../../src/logger.js';
import { WriteLog } from '../../src/log/write-log.js';
import { openStore } from '../../src/store/index.js';
import type { ObjectStore } from '../../src/store/object-store.js';
import { CLI, runCli, startServe, type ServingProcess } from '../helpers/cli.js';
import { changesFromBeginning, countSpans, engineOver, loggedKeys, waitForLine } from '../helpers/compaction.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { downloadAll, listKeys } from '../helpers/s3-files.js';
import { writeLake, type LakeShape } from '../helpers/lake.js';
import { s3ClientConfig, startS3Server, type S3Server } from '../helpers/s3-server.js';
import { waitFor } from '../helpers/wait.js';

const SHAPE: LakeShape = { files: 48, partitions: 6, spansPerFile: 40, seed: 5 };

let server: S3Server;
let work: string;
let client: S3Client;
/** A bucket holding the lake as the daemon wrote it; each test compacts a copy. */
const TEMPLATE = 'compact-template';
let templateSpans: number;

beforeAll(async () => {
  server = await startS3Server();
  work = await mkdtemp(join(tmpdir(), 's3pq-compact-s3-'));
  client = new S3Client(s3ClientConfig(server));
  templateSpans = await writeLake(join(work, 'template-unused'), SHAPE, s3Toml(TEMPLATE));
}, 600_000);

afterAll(async () => {
  client?.destroy();
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

/** A new bucket with every object of the template (lake files, write log, checkpoint). */
async function copyOfLake(bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  for (const key of await listKeys(client, TEMPLATE)) {
    await client.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${TEMPLATE}/${encodeURIComponent(key).replace(/%2F/g, '/')}` }));
  }
}

function serveToml(bucket: string, wal: string): string {
  return `${s3Toml(bucket)}${compactionToml}[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nendpoint = "127.0.0.1:0"\n[telemetry]\nenabled = false\n[wal]\ndir = ${JSON.stringify(wal)}\n`;
}

/** Every span through the daemon's query port: rows and distinct span ids. */
async function countThroughPort(serve: ServingProcess): Promise<{ rows: number; distinct: number }> {
  const port = serve.lines.find((l) => l.transport === 'query')?.port as number;
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dataset: 'traces', select: ['span_id'], format: 'ndjson' }) });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`query port answered ${res.status}: ${text}`);
  const ids = text.split('\n').filter((l) => l !== '').map((l) => String((JSON.parse(l) as { span_id: unknown }).span_id));
  return { rows: ids.length, distinct: new Set(ids).size };
}

/** Every partition compacted to one file, no lease and no pending delete left. */
async function compactedAndClean(store: ObjectStore): Promise<boolean> {
  if ((await parquetKeys(store)).length !== SHAPE.partitions || (await leases(store)).length > 0) return false;
  const pending = store.list('_compaction/')[Symbol.asyncIterator]();
  return (await pending.next()).done === true;
}

/** What a restarted daemon left, checked by every reader: exact counts, no orphans. */
async function expectWholeOnS3(bucket: string, store: ObjectStore, serve: ServingProcess): Promise<void> {
  expect(await countThroughPort(serve)).toEqual({ rows: templateSpans, distinct: templateSpans });
  const log = new WriteLog({ store, instanceId: 'verify', settleWindowMs: 2000 });
  expect(await countSpans(engineOver(store, log))).toEqual({ rows: templateSpans, distinct: templateSpans });
  // No orphaned output: the bucket holds exactly the files the log names.
  expect(await parquetKeys(store)).toEqual(await loggedKeys(store));
  const dir = join(work, `download-${bucket}`);
  await downloadAll(client, bucket, 'traces/', dir);
  const duck = await duckdbQuery(`select count(*) as n, count(distinct span_id) as d from read_parquet('${dir}/traces/**/*.parquet', hive_partitioning = false)`);
  expect(duck).toEqual([{ n: String(templateSpans), d: String(templateSpans) }]);
  const fed = await changesFromBeginning(new WriteLog({ store, instanceId: 'feed', settleWindowMs: 2000 }));
  expect(fed.reduce((n, f) => n + f.rows, 0)).toBe(templateSpans);
  expect(new Set(fed.map((f) => f.key)).size).toBe(fed.length);
}

describe('compaction on radosgw', () => {
  // What each point leaves in the bucket when the daemon dies there.
  const left: Record<PausePoint, { outputs: number; extraFiles: number }> = {
    merge: { outputs: 0, extraFiles: 0 }, // inputs read, nothing written
    upload: { outputs: 1, extraFiles: 1 }, // the output uploaded, not swapped in (an orphan to be)
    swap: { outputs: 1, extraFiles: 1 }, // swapped in, inputs not yet queued for deletion
  };
  for (const point of ['merge', 'upload', 'swap'] as const) {
    it(`daemon killed -9 mid-${point}, then restarted: every span once, orphans cleaned up`, async () => {
      const bucket = `compact-kill-${point}`;
      await copyOfLake(bucket);
      const configPath = join(work, `kill-${point}.toml`);
      await writeFile(configPath, serveToml(bucket, join(work, `wal-kill-${point}`)));
      const store = await storeFor(bucket);
      try {
        const first = await startServe(['--config', configPath], { env: { [PAUSE_ENV]: point } });
        try {
          await waitForLine(first.child, new RegExp(`compaction paused at ${point}`));
          // Paused there: our readers see every span once, whatever the bucket holds.
          expect(await countThroughPort(first)).toEqual({ rows: templateSpans, distinct: templateSpans });
          const held = await Promise.all((await leases(store)).map(async (k) => JSON.parse(new TextDecoder().decode(await store.get(k))) as { outputs: string[] }));
          expect(held.map((l) => l.outputs.length)).toEqual([left[point].outputs]);
          expect((await parquetKeys(store)).length).toBe(SHAPE.files + left[point].extraFiles);
        } finally {
          first.child.kill('SIGKILL');
          await first.exited;
        }
        const second = await startServe(['--config', configPath]);
        try {
          await waitFor(() => compactedAndClean(store), 300_000, `the restarted daemon to finish what the one killed mid-${point} left`);
          await expectWholeOnS3(bucket, store, second);
        } finally {
          second.child.kill('SIGTERM');
          await second.exited;
        }
      } finally {
        await store.close();
      }
    }, 600_000);
  }

  it('a daemon and the CLI compact one bucket at once: each partition once, every span once', async () => {
    const bucket = 'compact-both';
    await copyOfLake(bucket);
    const configPath = join(work, 'both.toml');
    await writeFile(configPath, serveToml(bucket, join(work, 'wal-both')));
    const cliConfig = join(work, 'both-cli.toml');
    await writeFile(cliConfig, `${s3Toml(bucket)}${compactionToml}[wal]\ndir = ${JSON.stringify(join(work, 'wal-both-cli'))}\n`);
    const store = await storeFor(bucket);
    try {
      const cli = runCli(['compact', '--config', cliConfig]);
      const serve = await startServe(['--config', configPath]);
      try {
        const r = await cli;
        // (The AWS SDK warns on stderr about Node 20's end of support; no error of ours.)
        expect(r.stderr).not.toMatch(/error/i);
        expect(r.code).toBe(0);
        await waitFor(() => compactedAndClean(store), 300_000, 'every partition compacted');
        // One swap entry per partition, whoever made it (leases kept them apart).
        const swaps = (await listKeys(client, bucket, '_log/traces/')).filter((k) => /-c\d+\.json$/.test(k));
        expect(swaps).toHaveLength(SHAPE.partitions);
        const byCli = r.stdout.match(/ files → 1, /g)?.length ?? 0;
        expect(swaps.filter((k) => k.includes('-compact-'))).toHaveLength(byCli);
        console.log(`radosgw, daemon + CLI at once: CLI swapped ${byCli} partitions, the daemon ${SHAPE.partitions - byCli}`);
        await expectWholeOnS3(bucket, store, serve);
      } finally {
        serve.child.kill('SIGTERM');
        await serve.exited;
      }
    } finally {
      await store.close();
    }
  }, 600_000);

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
    await copyOfLake(bucket);
    const spans = templateSpans;
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
