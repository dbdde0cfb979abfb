/**
 * Hostile input. A seeded PRNG (SEED below: a run is reproduced exactly) mutates valid OTLP
 * requests for every signal — protobuf and JSON, gzip and not — with byte flips, truncations,
 * wrong wire types, huge length prefixes, invalid UTF-8, deep nesting, giant numbers, duplicated
 * fields, repeated-field bombs, gzip bombs and broken framing, and sends a few thousand over
 * HTTP (raw sockets) and gRPC (raw HTTP/2 streams) to a daemon running as a child process.
 * Meanwhile slow-loris sockets drip a byte a second, and the official exporters send good
 * traffic.
 *
 * Every fuzz request must get a 200 (partial success allowed) or a 4xx / a non-internal gRPC
 * status; never a 5xx, never a dropped connection (except a body over the limit, refused
 * unread), never a crash, never an error-level log line. The slow-loris sockets must be cut by
 * the header/request timeouts. Every good request must succeed and every one of its records must
 * be in the store (DuckDB, after a graceful stop flushed everything). The daemon (1 MiB body
 * limits, [buffer] memory_limit_mb = 96) must keep its peak resident memory within
 * MEMORY_MARGIN_MB of where the fuzzing started.
 *
 * Before that: repeated-field bombs at the size limit must be refused without being decoded
 * (AMPLIFICATION_MARGIN_MB), and test/fuzz/corpus/*.json is replayed, each input with the
 * answers that are right for it.
 */
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe, type ServingProcess } from '../helpers/cli.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { exportLogs, makeLogExporter, makeLogRecords } from '../helpers/logs.js';
import { exportMetrics, makeMetricExporter, makeMetrics } from '../helpers/metrics.js';
import { exportSpans, makeExporter, makeTraceSpans, type Transport } from '../helpers/spans.js';
import {
  GRPC_PATHS,
  grpcCase,
  grpcFrame,
  grpcVerdict,
  httpCase,
  httpVerdict,
  postHead,
  rawGrpc,
  rawHttp,
  type FuzzCase,
  type GrpcResult,
  type HttpResult,
} from '../fuzz/cases.js';
import { corpusBody, loadCorpus, toCorpusJson } from '../fuzz/corpus.js';
import { Rng, gzipBombs, repeatedBomb, seeds } from '../fuzz/mutate.js';

/** The fuzzer's seed. Change it to explore; a failure prints the case and writes it as a corpus file. */
const SEED = 0x5eed2026;
const HTTP_CASES = 2400;
const GRPC_CASES = 1200;
/** Generation stops after this long even if the counts are not reached. */
const TIME_BUDGET_MS = 75_000;
const HTTP_CONCURRENCY = 12;
const GRPC_CONCURRENCY = 8;
/** Peak RSS (VmHWM) may exceed the RSS at the start of the fuzzing by at most this. */
const MEMORY_MARGIN_MB = 400;
/**
 * 72 bombs of ~1 MiB (24 at a time) may raise peak RSS by at most this (measured: ~80 MB).
 * Without the check in src/otlp/limits.ts each decodes to ~80 MB and the peak grew by ~400 MB
 * (a single bomb at the default 64 MiB limit needs ~5 GB and kills the process).
 */
const AMPLIFICATION_MARGIN_MB = 160;
const HEADER_TIMEOUT_S = 1;
const REQUEST_TIMEOUT_S = 3;
/**
 * Long enough for a cold daemon on a loaded 2-core machine to take in 8 concurrent 1 MiB gRPC
 * bombs (at 2 s one of them was answered DEADLINE_EXCEEDED twice while benchmarks ran beside
 * the suite), short enough that the slow-loris stream below is still cut well within the test.
 */
const GRPC_REQUEST_TIMEOUT_S = 5;
/**
 * The good traffic's exporters wait this long for an answer (their default is 10 s). What the
 * test holds them to is that every good export succeeds and is stored, not its latency under a
 * fuzz storm: on a loaded 2-core machine (the suite's other files and benchmarks beside it),
 * 1–3 of ~800 exports took over 10 s in two runs. A request never answered still fails it.
 */
const GOOD_EXPORT_TIMEOUT_MS = 30_000;

// ---- the daemon ---------------------------------------------------------------------------

function procStatus(pid: number): { rssMb: number; hwmMb: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

async function pool<T>(items: AsyncIterable<T> | Iterable<T>, concurrency: number, run: (item: T) => Promise<void>): Promise<void> {
  const it = (Symbol.asyncIterator in items ? items[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]()) as AsyncIterator<T> | Iterator<T>;
  const worker = async (): Promise<void> => {
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      await run(next.value);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

describe('hostile input', () => {
  let dir: string;
  let serving: ServingProcess;
  let sessions: ClientHttp2Session[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 's3pq-fuzz-'));
    const config = join(dir, 'fuzz.toml');
    await writeFile(
      config,
      `
[receivers.grpc]
endpoint = "127.0.0.1:0"
max_recv_msg_size_mib = 1
request_timeout_seconds = ${GRPC_REQUEST_TIMEOUT_S}
[receivers.http]
endpoint = "127.0.0.1:0"
max_request_body_mib = 1
read_header_timeout_seconds = ${HEADER_TIMEOUT_S}
request_timeout_seconds = ${REQUEST_TIMEOUT_S}
# Far above what the fuzzer opens at once: a full server resets new connections, which is right
# for a server at its cap but not what this test is about.
max_connections = 4096
[query]
enabled = false
[telemetry]
enabled = false
[storage]
local_path = ${JSON.stringify(join(dir, 'data'))}
instance_id = "fuzz"
[partitioning]
max_past_hours = 0
[buffer]
max_age_seconds = 2
max_bytes_mb = 8
memory_limit_mb = 96
[wal]
fsync = "never"
[log]
level = "info"
`,
    );
    gzipBombs(); // built once, before the clock starts
    serving = await startServe(['--config', config]);
    // Many 1 MiB messages in flight: lift the client session's 10 MB nghttp2 memory cap.
    sessions = [0, 1].map(() => connectHttp2(`http://127.0.0.1:${serving.ports.grpc}`, { maxSessionMemory: 512 }));
  });

  afterAll(async () => {
    for (const s of sessions) s.close();
    if (serving && serving.child.exitCode === null) {
      serving.child.kill('SIGKILL');
      await serving.exited;
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses repeated-field bombs before decoding them, so no request costs much more memory than its size', async () => {
    const pid = serving.child.pid!;
    // 1 040 008 bytes = 520 000 empty spans / log records / metrics (~80 MB once decoded), and the JSON equivalent.
    const proto = repeatedBomb('traces', 520_000);
    const jsonBody = (field: string[]) => Buffer.from(`{"${field[0]}":[{"${field[1]}":[{"${field[2]}":[${new Array(340_000).fill('{}').join(',')}]}]}]}`);
    const json = {
      traces: jsonBody(['resourceSpans', 'scopeSpans', 'spans']),
      logs: jsonBody(['resourceLogs', 'scopeLogs', 'logRecords']),
      metrics: jsonBody(['resourceMetrics', 'scopeMetrics', 'metrics']),
    };
    const signals = ['traces', 'logs', 'metrics'] as const;
    const paths = { traces: '/v1/traces', logs: '/v1/logs', metrics: '/v1/metrics' };
    const baseline = procStatus(pid);
    try {
      await writeFile(`/proc/${pid}/clear_refs`, '5');
    } catch {
      /* VmHWM then covers the whole run so far */
    }
    const started = Date.now();
    const answers: string[] = [];
    for (let round = 0; round < 3; round++) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 24 }, async (_, i) => {
            const signal = signals[i % 3]!;
            if (i % 3 === 0) return `grpc ${(await rawGrpc(sessions[i % 2]!, GRPC_PATHS[signal], grpcFrame(proto, false))).code}`;
            const isJson = i % 3 === 2;
            const body = isJson ? json[signal] : proto;
            const r = await rawHttp(serving.ports.http!, postHead(paths[signal], { 'Content-Type': isJson ? 'application/json' : 'application/x-protobuf' }, body.length), body);
            return `http ${r.status} ${/messages in \d+ bytes/.test(r.body.toString('latin1')) ? 'counted' : r.body.toString('latin1').slice(0, 80)}`;
          }),
        )),
      );
    }
    const peak = procStatus(pid);
    const growth = (peak?.hwmMb ?? 0) - (baseline?.rssMb ?? 0);
    console.log(`bombs: ${answers.length} requests of ~1 MiB in ${Date.now() - started} ms; answers ${[...new Set(answers)].join(', ')}; peak RSS growth ${growth.toFixed(0)} MB (margin ${AMPLIFICATION_MARGIN_MB} MB)`);
    expect([...new Set(answers)].sort()).toEqual(['grpc 3', 'http 400 counted']);
    if (baseline && peak) expect(growth).toBeLessThan(AMPLIFICATION_MARGIN_MB);
  });

  it(
    `survives ${HTTP_CASES + GRPC_CASES} mutated requests (seed ${SEED.toString(16)}) with good traffic alongside, and stores all of the good traffic`,
    { timeout: 240_000 },
    async () => {
      const pid = serving.child.pid!;
      const httpPort = serving.ports.http!;
      const failures: { c: FuzzCase; reason: string }[] = [];
      // Outside the run's temp dir (removed afterwards), so failing inputs can be moved to the corpus.
      const failureDir = join(tmpdir(), `s3pq-fuzz-failures-${SEED.toString(16)}`);
      const fail = async (c: FuzzCase, reason: string): Promise<void> => {
        failures.push({ c, reason });
        if (failures.length <= 20) {
          await mkdir(failureDir, { recursive: true });
          const file = join(failureDir, `case-${c.id}.json`);
          const body = c.head !== undefined ? Buffer.concat([Buffer.from(c.head, 'latin1'), c.body]) : (c.grpcPayload ?? c.body);
          await writeFile(
            file,
            toCorpusJson({
              name: `seed-${SEED.toString(16)}-case-${c.id}-${c.what.replace(/[^a-z0-9]+/gi, '-')}`,
              found: `${c.what}: ${reason}${c.head !== undefined ? ' (raw HTTP request: head and body)' : c.grpcPayload !== undefined ? ' (raw gRPC stream payload)' : ''}`,
              transport: c.transport,
              path: c.path,
              ...(c.contentType !== undefined ? { contentType: c.contentType } : {}),
              ...(c.contentEncoding !== undefined ? { contentEncoding: c.contentEncoding } : {}),
              body,
            }),
          );
          console.error(`fuzz failure #${c.id} [${c.transport} ${c.what}] ${reason} → ${file}`);
        }
      };
      const histogram = new Map<string, number>();
      const count = (k: string): void => void histogram.set(k, (histogram.get(k) ?? 0) + 1);

      const sendHttp = async (c: FuzzCase): Promise<HttpResult> => {
        const head = c.head ?? postHead(c.path, { 'Content-Type': c.contentType, 'Content-Encoding': c.contentEncoding }, c.body.length);
        return rawHttp(httpPort, head, c.body);
      };
      let nextSession = 0;
      const sendGrpc = (c: FuzzCase): Promise<GrpcResult> => {
        const session = sessions[nextSession++ % sessions.length]!;
        return rawGrpc(session, c.path, c.grpcPayload ?? grpcFrame(c.body, false), c.grpcHeaders ?? {});
      };

      // 1. The corpus: known inputs with the answers that are right for them.
      const corpus = loadCorpus();
      const corpusResults: string[] = [];
      for (const e of corpus) {
        const body = corpusBody(e);
        let got: number | undefined;
        let detail = '';
        if (e.transport === 'http') {
          const r = await rawHttp(httpPort, postHead(e.path, { 'Content-Type': e.content_type, 'Content-Encoding': e.content_encoding }, body.length), body);
          got = r.status;
          detail = r.body.toString('utf8').replace(/[^\x20-\x7e]/g, '.').slice(0, 120);
        } else {
          const payload = e.grpc_raw_payload ? body : grpcFrame(body, e.content_encoding !== undefined);
          const r = await rawGrpc(sessions[0]!, e.path, payload, e.content_encoding !== undefined ? { 'grpc-encoding': e.content_encoding } : {});
          got = r.code;
          detail = r.message.slice(0, 120);
        }
        corpusResults.push(`${e.file}: ${got} ${detail}`);
        expect(e.expect, `${e.file} (${e.name}) answered ${got}: ${detail}`).toContain(got);
      }
      console.log(`corpus: ${corpus.length} inputs replayed\n  ${corpusResults.join('\n  ')}`);

      // 2. Good traffic, in parallel, until the fuzzing is over: the official exporters.
      let stop = false;
      const sent = new Map<string, { records: number; batches: number }>();
      const goodFailures: string[] = [];
      const note = (service: string, records: number): void => {
        const s = sent.get(service) ?? { records: 0, batches: 0 };
        sent.set(service, { records: s.records + records, batches: s.batches + 1 });
      };
      const loop = async (fn: () => Promise<void>): Promise<void> => {
        while (!stop) {
          try {
            await fn();
          } catch (err) {
            goodFailures.push(String(err));
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      const ports = serving.ports;
      const traceLoop = (t: Transport) =>
        loop(async () => {
          const exporter = makeExporter(t, ports, undefined, GOOD_EXPORT_TIMEOUT_MS);
          const spans = makeTraceSpans(`good-traces-${t}`);
          await exportSpans(exporter, spans);
          await exporter.shutdown();
          note(`good-traces-${t}`, spans.length);
        });
      const logsLoop = loop(async () => {
        const exporter = makeLogExporter('http-proto', ports, GOOD_EXPORT_TIMEOUT_MS);
        const records = await makeLogRecords('good-logs');
        await exportLogs(exporter, records);
        await exporter.shutdown();
        note('good-logs', records.length);
      });
      const metricsLoop = loop(async () => {
        const exporter = makeMetricExporter('grpc', ports, GOOD_EXPORT_TIMEOUT_MS);
        const rm = await makeMetrics('good-metrics');
        await exportMetrics(exporter, rm);
        await exporter.shutdown();
        note('good-metrics', rm.scopeMetrics.flatMap((s) => s.metrics).reduce((n, m) => n + m.dataPoints.length, 0));
      });
      const good = Promise.all([traceLoop('grpc'), traceLoop('http-proto'), traceLoop('http-json'), logsLoop, metricsLoop]);

      // 3. Slow-loris: a byte a second, on headers, on a body, and on a gRPC message.
      const slowLoris = async (what: string, first: string, drip: string, limitS: number): Promise<string | undefined> => {
        const started = Date.now();
        const socket = connectTcp(httpPort, '127.0.0.1');
        let answer = '';
        socket.on('data', (b: Buffer) => (answer += b.toString('latin1')));
        socket.on('error', () => {});
        socket.write(first);
        let i = 0;
        const drips = setInterval(() => {
          if (!socket.destroyed && i < drip.length) socket.write(drip[i++]!);
        }, 1000);
        await new Promise((r) => socket.once('close', r));
        clearInterval(drips);
        const s = (Date.now() - started) / 1000;
        const status = /^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1];
        console.log(`slow-loris ${what}: cut after ${s.toFixed(1)} s (${i} bytes dripped), answer ${status ?? 'none'}`);
        if (s > limitS + 2.5) return `slow-loris ${what} held for ${s.toFixed(1)} s (limit ${limitS} s)`;
        if (status !== undefined && status !== '408') return `slow-loris ${what} answered ${status}`;
        return undefined;
      };
      const slowGrpc = async (): Promise<string | undefined> => {
        const started = Date.now();
        const frame = grpcFrame(seeds()[0]!.protobuf, false);
        const req = sessions[1]!.request({ ':method': 'POST', ':path': GRPC_PATHS.traces, 'content-type': 'application/grpc', te: 'trailers' });
        let code: string | undefined;
        req.on('response', (h) => (code ??= h['grpc-status'] as string | undefined));
        req.on('trailers', (h) => (code ??= h['grpc-status'] as string | undefined));
        req.on('error', () => {});
        req.on('data', () => {});
        let i = 0;
        const drips = setInterval(() => {
          if (!req.closed && i < frame.length) req.write(frame.subarray(i, ++i));
        }, 1000);
        await new Promise((r) => req.once('close', r));
        clearInterval(drips);
        const s = (Date.now() - started) / 1000;
        console.log(`slow-loris gRPC message: cut after ${s.toFixed(1)} s (${i} bytes dripped), grpc-status ${code}`);
        if (s > GRPC_REQUEST_TIMEOUT_S + 2.5) return `slow gRPC stream held for ${s.toFixed(1)} s`;
        if (code !== '4') return `slow gRPC stream ended with grpc-status ${code}`;
        return undefined;
      };
      const slow = Promise.all([
        slowLoris('idle connection', '', '', HEADER_TIMEOUT_S),
        slowLoris('headers', 'POST /v1/traces HTTP/1.1\r\nHost: x\r\n', 'X-Slow: ' + 'a'.repeat(60), HEADER_TIMEOUT_S),
        slowLoris('headers 2', 'POST /v1/logs HTTP/1.1\r\n', 'Host: ' + 'b'.repeat(60), HEADER_TIMEOUT_S),
        slowLoris('body', 'POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n', '{'.repeat(100), REQUEST_TIMEOUT_S),
        slowLoris('body 2', 'POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: 500\r\n\r\n', '\n'.repeat(500), REQUEST_TIMEOUT_S),
        slowGrpc(),
      ]);

      // 4. The fuzzing, after a moment of good traffic so the baseline includes warmed-up code.
      await new Promise((r) => setTimeout(r, 1500));
      const baseline = procStatus(pid);
      try {
        await writeFile(`/proc/${pid}/clear_refs`, '5'); // resets VmHWM, so it is the peak from here on
      } catch {
        /* not Linux, or not allowed: VmHWM then covers the whole run */
      }
      let peakRss = baseline?.rssMb ?? 0;
      const sampler = setInterval(() => {
        const s = procStatus(pid);
        if (s) peakRss = Math.max(peakRss, s.rssMb);
      }, 100);

      const rng = new Rng(SEED);
      const all = seeds();
      const started = Date.now();
      const deadline = started + TIME_BUDGET_MS;
      function* generate(transport: 'http' | 'grpc', n: number, r: Rng): Generator<FuzzCase> {
        for (let i = 0; i < n && Date.now() < deadline; i++) yield transport === 'http' ? httpCase(r, i, all) : grpcCase(r, 100_000 + i, all);
      }
      // Two independent streams from the one seed, so each transport's cases do not depend on timing.
      const httpRng = new Rng(rng.int(0, 2 ** 32 - 1));
      const grpcRng = new Rng(rng.int(0, 2 ** 32 - 1));
      let sentHttp = 0;
      let sentGrpc = 0;
      await Promise.all([
        pool(generate('http', HTTP_CASES, httpRng), HTTP_CONCURRENCY, async (c) => {
          const r = await sendHttp(c);
          sentHttp++;
          count(`http ${r.status ?? r.error}`);
          const bad = httpVerdict(c, r, HEADER_TIMEOUT_S * 1000);
          if (bad) await fail(c, bad);
        }),
        pool(generate('grpc', GRPC_CASES, grpcRng), GRPC_CONCURRENCY, async (c) => {
          const r = await sendGrpc(c);
          sentGrpc++;
          count(`grpc ${r.code ?? `http-${r.httpStatus}`}`);
          const bad = grpcVerdict(c, r);
          if (bad) await fail(c, bad);
        }),
      ]);
      const fuzzSeconds = (Date.now() - started) / 1000;
      clearInterval(sampler);
      const peak = procStatus(pid);
      stop = true;
      await good;
      const slowProblems = (await slow).filter((p): p is string => p !== undefined);

      // 5. Report.
      const hist = [...histogram].sort().map(([k, v]) => `${k}: ${v}`).join(', ');
      const hwm = peak?.hwmMb ?? NaN;
      const growth = Math.max(hwm, peakRss) - (baseline?.rssMb ?? 0);
      console.log(
        [
          `fuzz seed ${SEED.toString(16)}: ${sentHttp} HTTP + ${sentGrpc} gRPC requests in ${fuzzSeconds.toFixed(1)} s (${((sentHttp + sentGrpc) / fuzzSeconds).toFixed(0)}/s)`,
          `answers: ${hist}`,
          `good traffic: ${[...sent].map(([k, v]) => `${k} ${v.records} records in ${v.batches} exports`).join('; ')}`,
          `memory: RSS ${baseline?.rssMb.toFixed(0)} MB at the start, peak ${Math.max(hwm, peakRss).toFixed(0)} MB (growth ${growth.toFixed(0)} MB, margin ${MEMORY_MARGIN_MB} MB), ${peak?.rssMb.toFixed(0)} MB at the end`,
        ].join('\n'),
      );

      expect(serving.child.exitCode, 'the daemon must not exit').toBeNull();
      expect(failures.map((f) => `#${f.c.id} ${f.c.transport} ${f.c.what}: ${f.reason}`).slice(0, 20)).toEqual([]);
      expect(slowProblems).toEqual([]);
      expect(goodFailures).toEqual([]);
      expect(sentHttp + sentGrpc).toBeGreaterThan(1000);
      if (baseline) expect(growth, 'peak RSS growth (MB) during fuzzing').toBeLessThan(MEMORY_MARGIN_MB);
      const errors = serving.lines.filter((l) => (l.level as number) >= 50).map((l) => `${l.msg as string}: ${JSON.stringify(l.err ?? '').slice(0, 300)}`);
      expect(errors, 'no error-level log lines (no 5xx, no internal failure)').toEqual([]);

      // 6. A graceful stop flushes everything; then every good record must be in the store.
      serving.child.kill('SIGTERM');
      expect(await serving.exited).toBe(0);
      const data = join(dir, 'data');
      const stored = new Map<string, number>();
      for (const dataset of ['traces', 'logs', 'metrics']) {
        const rows = await duckdbQuery(
          `SELECT service_name, count(*)::BIGINT AS n FROM read_parquet('${data}/${dataset}/**/*.parquet', hive_partitioning = true, union_by_name = true)
           WHERE service_name LIKE 'good-%' GROUP BY 1`,
        );
        for (const r of rows) stored.set(String(r.service_name), Number(r.n));
      }
      const expected = Object.fromEntries([...sent].map(([k, v]) => [k, v.records]));
      expect(Object.fromEntries(stored)).toEqual(expected);
      expect(Object.keys(expected)).toHaveLength(5);
    },
  );
});
