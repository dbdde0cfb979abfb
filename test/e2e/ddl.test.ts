/**
 * `s3-parquet-connector ddl`: the DuckDB script runs against files the daemon wrote and its
 * views return them; the Athena, Trino and Spark statements carry every column of the Arrow
 * schemas in the engine's types, the partition columns and the engine-specific clauses.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText, renderConfigToml, type Config } from '../../src/config/index.js';
import { promotedSpecs } from '../../src/schema/datasets.js';
import { generateDdl } from '../../src/ddl/index.js';
import { DATASETS, DATASET_NAMES } from '../../src/schema/datasets.js';
import { runCli } from '../helpers/cli.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { requestWithOneBad } from '../helpers/otlp-requests.js';
import { jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 's3pq-ddl-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function post(d: TestDaemon, signal: string, body: unknown): Promise<void> {
  const res = await fetch(d.httpUrl(`/v1/${signal}`), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  expect(res.status).toBe(200);
}

/** The daemon's effective config as a file the CLI reads. */
async function configFile(d: TestDaemon, name: string): Promise<string> {
  const file = join(work, `${name}.toml`);
  await writeFile(file, renderConfigToml(d.config));
  return file;
}

/** Runs a whole script in a fresh in-memory DuckDB, then the queries; rows as JSON. */
async function duckdbScript(script: string, queries: string[]): Promise<Record<string, unknown>[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const conn = await instance.connect();
    try {
      await conn.run(script);
      const out = [];
      for (const q of queries) out.push((await conn.runAndReadAll(q)).getRowObjectsJson() as Record<string, unknown>[]);
      return out;
    } finally {
      conn.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

describe('ddl --engine duckdb', () => {
  it('creates views traces, logs and metrics over what the daemon wrote', async () => {
    const d = await startTestDaemon('[buffer]\nmax_age_seconds = 3600');
    try {
      await post(d, 'traces', jsonTraceRequest(Array.from({ length: 5 }, (_, i) => jsonSpan({ name: `ddl-${i}` })), 'ddl-svc'));
      await post(d, 'logs', requestWithOneBad('logs', 'ddl-logs', 3));
      await post(d, 'metrics', requestWithOneBad('metrics', 'ddl-metrics', 4));
      await d.pipeline.flush();
      const r = await runCli(['ddl', '--engine', 'duckdb', '--config', await configFile(d, 'duckdb')]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`read_parquet('${join(d.dir, 'data')}/traces/**/*.parquet', hive_partitioning = true`);
      const [counts, partitions, typed, services, ends, order] = await duckdbScript(r.stdout, [
        `SELECT (SELECT count(*) FROM traces)::INT AS traces, (SELECT count(*) FROM logs)::INT AS logs, (SELECT count(*) FROM metrics)::INT AS metrics`,
        `SELECT DISTINCT date::VARCHAR AS date, hour FROM traces`,
        `SELECT typeof(start_time) AS t, typeof(date) AS d, typeof(hour) AS h, typeof(attributes) AS a FROM traces LIMIT 1`,
        `SELECT DISTINCT service_name FROM logs UNION ALL SELECT DISTINCT service_name FROM metrics ORDER BY 1`,
        // No file stores end_time (traces version 3): the view still has it, start + duration.
        `SELECT typeof(end_time) AS t, count(end_time)::INT AS n, count(*) FILTER (WHERE epoch_ns(end_time) = epoch_ns(start_time) + duration_ns)::INT AS derived FROM traces GROUP BY ALL`,
        `SELECT column_name FROM information_schema.columns WHERE table_name = 'traces' AND column_name IN ('start_time', 'end_time', 'duration_ns') ORDER BY ordinal_position`,
      ]);
      expect(counts).toEqual([{ traces: 5, logs: 3, metrics: 4 }]);
      expect(partitions).toEqual([{ date: '2024-01-01', hour: 0 }]);
      expect(typed).toEqual([{ t: 'TIMESTAMP_NS', d: 'DATE', h: 'INTEGER', a: 'MAP(VARCHAR, VARCHAR)' }]);
      expect(services).toEqual([{ service_name: 'ddl-logs' }, { service_name: 'ddl-metrics' }]);
      expect(ends).toEqual([{ t: 'TIMESTAMP_NS', n: 5, derived: 5 }]);
      expect(order!.map((c) => c.column_name)).toEqual(['start_time', 'end_time', 'duration_ns']);
    } finally {
      await d.cleanup();
    }
  });

  it('takes service_name from the path with by_service, and gives a dataset without files an empty typed view', async () => {
    const d = await startTestDaemon('[buffer]\nmax_age_seconds = 3600\n[partitioning]\nby_service = true\ngranularity = "day"\nformat = "dt=%Y-%m-%d"');
    try {
      await post(d, 'traces', jsonTraceRequest([jsonSpan({ name: 'a' }), jsonSpan({ name: 'b' })], 'svc/with=odd chars'));
      await post(d, 'traces', jsonTraceRequest([jsonSpan({ name: 'c' })], '123'));
      await d.pipeline.flush();
      const r = await runCli(['ddl', '--engine', 'duckdb', '--config', await configFile(d, 'by-service')]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/No files under .*\/logs\/ yet/);
      const [services, empty, columns] = await duckdbScript(r.stdout, [
        `SELECT service_name, typeof(service_name) AS t, count(*)::INT AS n, dt::VARCHAR AS dt FROM traces GROUP BY ALL ORDER BY 1`,
        `SELECT count(*)::INT AS n FROM metrics`,
        `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'logs' AND column_name IN ('time', 'attributes', 'dt', 'service_name') ORDER BY 1`,
      ]);
      expect(services).toEqual([
        { service_name: '123', t: 'VARCHAR', n: 1, dt: '2024-01-01' },
        { service_name: 'svc/with=odd chars', t: 'VARCHAR', n: 2, dt: '2024-01-01' },
      ]);
      expect(empty).toEqual([{ n: 0 }]);
      expect(columns).toEqual([
        { column_name: 'attributes', data_type: 'MAP(VARCHAR, VARCHAR)' },
        { column_name: 'dt', data_type: 'DATE' },
        { column_name: 'service_name', data_type: 'VARCHAR' },
        { column_name: 'time', data_type: 'TIMESTAMP_NS' },
      ]);
    } finally {
      await d.cleanup();
    }
  });

  it('refuses an unknown engine or dataset', async () => {
    const bad = await runCli(['ddl', '--engine', 'oracle']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown engine "oracle"; expected one of duckdb, athena, trino, spark/);
    const missing = await runCli(['ddl']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/ddl needs --engine/);
    const ds = await runCli(['ddl', '--engine', 'trino', '--dataset', 'spans']);
    expect(ds.stderr).toMatch(/unknown dataset "spans"/);
  });
});

describe('ddl for Athena, Trino and Spark', () => {
  const s3 = (extra = ''): Config =>
    parseConfigText(`[s3]\nbucket = "acme-telemetry"\nprefix = "otel"\nregion = "eu-west-1"\n[schema.traces]\npromoted_attributes = ["http.request.method", "http.response.status_code", "app.tenant:int64"]\n${extra}`);

  /**
   * Every column of every dataset's Arrow schema appears as a column definition, and the derived
   * ones (traces' end_time) too: the files' table declares it for older files that store it.
   */
  function expectEveryColumn(ddl: string, config: Config, quote: (n: string) => string, skip: string[] = []): void {
    for (const name of DATASET_NAMES) {
      const table = DATASETS[name].derived.length > 0 ? `${name}_files` : name;
      const start = ddl.indexOf(`.${quote(table)} (`);
      expect(start, `table ${name}`).toBeGreaterThan(0);
      const body = ddl.slice(start, ddl.indexOf('\n)', start));
      for (const f of DATASETS[name].schema(promotedSpecs(config)[name]).fields) {
        if (skip.includes(f.name)) continue;
        expect(body, `${name}.${f.name}`).toContain(`\n  ${quote(f.name)} `);
      }
      for (const d of DATASETS[name].derived) expect(body, `${name}.${d.name}`).toContain(`\n  ${quote(d.name)} `);
    }
  }

  it('athena: external tables with partition projection on date and hour', () => {
    const config = s3();
    const ddl = generateDdl(config, { engine: 'athena' });
    expectEveryColumn(ddl, config, (n) => `\`${n}\``);
    expect(ddl).toContain('CREATE EXTERNAL TABLE IF NOT EXISTS `default`.`traces_files` (');
    expect(ddl).toContain('  `end_time` timestamp,');
    // The view users query: end_time stored by older files, derived (to the millisecond) for the rest.
    expect(ddl).toContain('CREATE OR REPLACE VIEW "default"."traces" AS SELECT\n  "trace_id",');
    expect(ddl).toContain(`  "start_time",\n  coalesce("end_time", date_add('millisecond', "duration_ns" / 1000000, "start_time")) AS "end_time",\n  "duration_ns",`);
    expect(ddl).toContain('  "telemetry_sdk_language",\n  "date",\n  "hour"\nFROM "default"."traces_files";');
    expect(ddl).not.toContain('VIEW "default"."logs"');
    expect(ddl).toContain('  `start_time` timestamp,');
    expect(ddl).toContain('  `app_tenant` bigint');
    expect(ddl).toContain('  `attributes` map<string,string>,');
    expect(ddl).toContain('  `events` array<struct<`time`:timestamp,`name`:string,`attributes`:map<string,string>,`dropped_attributes_count`:bigint>>,');
    expect(ddl).toContain('  `severity_number` int,');
    expect(ddl).toContain('  `bucket_counts` array<bigint>,');
    expect(ddl).toContain('PARTITIONED BY (`date` string, `hour` int)');
    expect(ddl).toContain("LOCATION 's3://acme-telemetry/otel/traces/'");
    for (const [k, v] of [
      ['projection.enabled', 'true'],
      ['projection.date.type', 'date'],
      ['projection.date.format', 'yyyy-MM-dd'],
      ['projection.date.range', 'NOW-3YEARS,NOW+1DAYS'],
      ['projection.date.interval.unit', 'DAYS'],
      ['projection.hour.type', 'integer'],
      ['projection.hour.range', '0,23'],
      ['projection.hour.digits', '2'],
      ['storage.location.template', 's3://acme-telemetry/otel/logs/date=${date}/hour=${hour}/'],
    ]) {
      expect(ddl).toContain(`'${k}' = '${v}'`);
    }
    expect(ddl.match(/STORED AS PARQUET/g)).toHaveLength(3);
    // One dataset, by service: service_name becomes an injected partition column, not a data column.
    const svc = generateDdl(s3('[partitioning]\nby_service = true'), { engine: 'athena', dataset: 'logs', schema: 'lake' });
    expect(svc).toContain('CREATE EXTERNAL TABLE IF NOT EXISTS `lake`.`logs` (');
    expect(svc).not.toContain('`traces`');
    expect(svc).toContain('PARTITIONED BY (`service_name` string, `date` string, `hour` int)');
    expect(svc).toContain("'projection.service_name.type' = 'injected'");
    expect(svc).toContain("'storage.location.template' = 's3://acme-telemetry/otel/logs/service_name=${service_name}/date=${date}/hour=${hour}/'");
    expect(svc.slice(svc.indexOf('(\n'), svc.indexOf('\n)'))).not.toContain('`service_name`');
    // A local store has no S3 location for Athena.
    expect(() => generateDdl(parseConfigText(''), { engine: 'athena' })).toThrow(/Athena reads S3 only/);
  });

  it('athena: other partition formats become matching projections', () => {
    const ddl = generateDdl(s3('[partitioning]\ngranularity = "minute"\nformat = "year=%Y/dh=%Y%m%d%H/minute=%M"'), { engine: 'athena', dataset: 'traces' });
    expect(ddl).toContain('PARTITIONED BY (`year` int, `dh` string, `minute` int)');
    expect(ddl).toContain("'projection.year.range' = '1970,2100'");
    expect(ddl).toContain("'projection.dh.format' = 'yyyyMMddHH'");
    expect(ddl).toContain("'projection.dh.interval.unit' = 'HOURS'");
    expect(ddl).toContain("'projection.minute.range' = '0,59'");
    expect(() => generateDdl(s3('[partitioning]\nformat = "%Y/%m/%d"'), { engine: 'athena' })).toThrow(/Hive-style partition levels/);
  });

  it('trino: Hive connector tables with timestamp(9), partitioned_by and a partition sync', () => {
    const config = s3();
    const ddl = generateDdl(config, { engine: 'trino' });
    expectEveryColumn(ddl, config, (n) => `"${n}"`);
    expect(ddl).toContain('CREATE TABLE IF NOT EXISTS "default"."traces_files" (');
    expect(ddl).toContain(`CALL system.sync_partition_metadata('default', 'traces_files', 'FULL');`);
    expect(ddl).toContain(`  coalesce("end_time", date_add('millisecond', "duration_ns" / 1000000, "start_time")) AS "end_time",`);
    expect(ddl).toContain('  "hour"\nFROM "default"."traces_files";');
    expect(ddl).toContain('  "start_time" timestamp(9),');
    expect(ddl).toContain('  "links" array(row("trace_id" varchar, "span_id" varchar, "trace_state" varchar, "attributes" map(varchar, varchar), "dropped_attributes_count" bigint, "flags" bigint)),');
    expect(ddl).toContain('  "quantiles" array(row("quantile" double, "value" double)),');
    expect(ddl).toContain('  "is_monotonic" boolean,');
    expect(ddl).toContain('  "date" varchar,\n  "hour" integer\n)');
    expect(ddl).toContain("  external_location = 's3://acme-telemetry/otel/metrics/',\n  format = 'PARQUET',\n  partitioned_by = ARRAY['date', 'hour']\n);");
    expect(ddl).toContain("CALL system.sync_partition_metadata('default', 'logs', 'FULL');");
    expect(ddl).toContain('hive.timestamp-precision=NANOSECONDS');
  });

  it('spark: parquet tables with nanosecond timestamps as BIGINT, PARTITIONED BY and MSCK REPAIR', () => {
    const config = s3('[partitioning]\nby_service = true');
    const ddl = generateDdl(config, { engine: 'spark' });
    expectEveryColumn(ddl, config, (n) => `\`${n}\``, ['service_name']);
    expect(ddl).toContain('SET spark.sql.legacy.parquet.nanosAsLong = true;');
    expect(ddl).toContain("  `start_time` BIGINT COMMENT 'ns since the epoch, UTC',");
    expect(ddl).toContain('  `exemplars` ARRAY<STRUCT<`time`: BIGINT, `value`: DOUBLE, `value_is_int`: BOOLEAN, `value_int`: BIGINT, `trace_id`: STRING, `span_id`: STRING, `filtered_attributes`: MAP<STRING, STRING>>>,');
    expect(ddl).toContain('  `service_name` STRING,\n  `date` STRING,\n  `hour` INT\n)\nUSING PARQUET\nPARTITIONED BY (`service_name`, `date`, `hour`)');
    expect(ddl).toContain("LOCATION 's3a://acme-telemetry/otel/traces/';\nMSCK REPAIR TABLE `default`.`traces_files`;");
    // Spark's timestamps are BIGINT ns: the derived end_time is exact.
    expect(ddl).toContain('  `end_time` BIGINT COMMENT');
    expect(ddl).toContain('CREATE OR REPLACE VIEW `default`.`traces` AS SELECT\n  `trace_id`,');
    expect(ddl).toContain('  coalesce(`end_time`, `start_time` + `duration_ns`) AS `end_time`,');
    expect(ddl).toContain('  `service_name`,\n  `date`,\n  `hour`\nFROM `default`.`traces_files`;');
    expect(ddl).toContain('MSCK REPAIR TABLE `default`.`logs`;');
    const local = generateDdl(parseConfigText('[storage]\nlocal_path = "/srv/lake"'), { engine: 'spark', dataset: 'logs' });
    expect(local).toContain("LOCATION 'file:///srv/lake/logs/';");
  });
});
