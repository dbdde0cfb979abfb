/** The CLI as users run it: help, version, check-config, and `serve` until SIGTERM/SIGINT. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe } from '../helpers/cli.js';
import { datasetGlob, duckdbQuery } from '../helpers/duckdb.js';
import { parquetFiles } from '../helpers/files.js';
import { jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const version = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

describe('CLI', () => {
  it('prints help and version', async () => {
    const help = await runCli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/s3-parquet-connector serve \[--config FILE\]/);
    expect(help.stdout).toMatch(/check-config/);
    // A newcomer learns where every key is and how S3 is configured.
    expect(help.stdout).toMatch(/config\.example\.toml/);
    expect(help.stdout).toMatch(/\[s3\] bucket/);
    expect(help.stdout).toMatch(/\[wal\] dir/);
    const v = await runCli(['--version']);
    expect(v.code).toBe(0);
    expect(v.stdout.trim()).toBe(version.version);
  });

  it('check-config prints the effective configuration, defaults filled in', async () => {
    const file = join(dir, 'ok.toml');
    await writeFile(file, '[parquet]\ncompression = "gzip"\n[storage]\nlocal_path = "${S3PQ_TEST_DIR}"\n');
    const r = await runCli(['check-config', '--config', file], { env: { S3PQ_TEST_DIR: '/srv/lake' } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/compression = "GZIP"/);
    expect(r.stdout).toMatch(/local_path = "\/srv\/lake"/);
    expect(r.stdout).toMatch(/endpoint = "0.0.0.0:4317"/);
    // "auto" is shown as the store it resolved to.
    expect(r.stdout).toMatch(/^backend = "local" # "auto" resolved: no s3.bucket$/m);
    const s3 = join(dir, 's3.toml');
    await writeFile(s3, '[s3]\nbucket = "lake"\n');
    expect((await runCli(['check-config', '--config', s3])).stdout).toMatch(/^backend = "s3" # "auto" resolved: s3.bucket is set$/m);
  });

  it('check-config names the key path of every error and exits 1', async () => {
    const file = join(dir, 'bad.toml');
    await writeFile(file, '[receivers.grpc]\nendpointt = "x"\n[parquet]\nrow_group_size = "many"\n[receivers.http]\nendpoint = "localhost"\n');
    const r = await runCli(['check-config', '--config', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/receivers\.grpc\.endpointt: unknown key/);
    expect(r.stderr).toMatch(/parquet\.row_group_size: expected a whole number/);
    expect(r.stderr).toMatch(/receivers\.http\.endpoint: /);
  });

  it('refuses a missing config file and an unknown command', async () => {
    const missing = await runCli(['serve', '--config', join(dir, 'nope.toml')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/config file not found/);
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
  });

  it('serves when node runs it with V8 flags (the worker pools start)', async () => {
    // Node refuses V8 and process-wide flags in a worker's execArgv: passed on as they were, the
    // query and encode pools threw at start-up and the daemon exited.
    const data = join(dir, 'data-v8-flags');
    const file = join(dir, 'serve-v8-flags.toml');
    await writeFile(
      file,
      `[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nendpoint = "127.0.0.1:0"\n[storage]\nlocal_path = "${data}"\n[parquet]\nencode_workers = 1\n[partitioning]\nmax_past_hours = 0\n`,
    );
    const serving = await startServe(['--config', file], { nodeArgs: ['--max-semi-space-size=32', '--max-old-space-size=1024', '--expose-gc'] });
    const spans = Array.from({ length: 5 }, (_, i) => jsonSpan({ name: `v8-${i}`, startNs: 1704067500_000000000n + BigInt(i) }));
    const res = await fetch(`http://127.0.0.1:${serving.ports.http}/v1/traces`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(jsonTraceRequest(spans)),
    });
    expect(res.status).toBe(200);
    serving.child.kill('SIGTERM');
    expect(await serving.exited).toBe(0);
    const rows = await duckdbQuery(`SELECT count(*)::INT AS n FROM ${datasetGlob(data, 'traces')}`);
    expect(rows).toEqual([{ n: 5 }]);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`serve flushes every buffer and exits 0 on ${signal}`, async () => {
      const data = join(dir, `data-${signal}`);
      const file = join(dir, `serve-${signal}.toml`);
      await writeFile(
        file,
        `[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nendpoint = "127.0.0.1:0"\n[storage]\nlocal_path = "${data}"\n[buffer]\nmax_age_seconds = 3600\n[partitioning]\nmax_past_hours = 0\n`,
      );
      const serving = await startServe(['--config', file]);
      const spans = Array.from({ length: 50 }, (_, i) => jsonSpan({ name: `sig-${i}`, startNs: 1704067500_000000000n + BigInt(i) * 3_600_000_000_000n }));
      const res = await fetch(`http://127.0.0.1:${serving.ports.http}/v1/traces`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(jsonTraceRequest(spans)),
      });
      expect(res.status).toBe(200);
      expect(await parquetFiles(data)).toEqual([]); // still buffered: max_age is an hour
      serving.child.kill(signal);
      expect(await serving.exited).toBe(0);
      // The shutdown is a JSON log line like every other.
      expect(serving.lines.find((l) => l.msg === 'signal received; flushing and shutting down')?.signal).toBe(signal);
      const files = await parquetFiles(data);
      expect(files.length).toBe(50); // one per hour partition
      const rows = await duckdbQuery(`SELECT count(*)::INT AS n, count(DISTINCT name)::INT AS names FROM ${datasetGlob(data, 'traces')}`);
      expect(rows).toEqual([{ n: 50, names: 50 }]);

      if (signal !== 'SIGTERM') return;
      // The query front end over the same files: partitions, a table and NDJSON.
      const parts = await runCli(['partitions', '--config', file, '--dataset', 'traces']);
      expect(parts.code).toBe(0);
      expect(parts.stdout.trim().split('\n')).toHaveLength(50);
      expect(parts.stdout.split('\n')[0]).toBe('traces/date=2024-01-01/hour=00');
      const nd = await runCli(['query', '--config', file, '--dataset', 'traces', '--filter', "name IN ('sig-3', 'sig-40')", '--select', 'name,start_time', '--format', 'ndjson']);
      expect(nd.code).toBe(0);
      expect(nd.stdout.trim().split('\n').map((l) => JSON.parse(l) as { name: string }).map((r) => r.name).sort()).toEqual(['sig-3', 'sig-40']);
      const table = await runCli(['query', '--config', file, '--dataset', 'traces', '--filter', "name = 'sig-7'", '--select', 'name,duration_ns']);
      expect(table.code).toBe(0);
      expect(table.stdout).toMatch(/^name\s+duration_ns\n-+\s+-+\nsig-7\s+1000\n\(1 rows;/);
      const bad = await runCli(['query', '--config', file, '--dataset', 'traces', '--filter', 'nme = 1']);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/unknown column "nme"/);
    });
  }
});
