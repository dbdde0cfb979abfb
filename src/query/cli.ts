/**
 * `s3-parquet-connector query`, `partitions` and `tail`: the query engine over the configured
 * store, printing what the query port would answer — a table for people, NDJSON for pipes.
 * The engine is built as the query port's workers build theirs (engine-from-config.ts), and
 * records print through the same serialiser (serialise.ts), so nothing is duplicated.
 */
import { createLogger } from '../logger.js';
import type { Config } from '../config/index.js';
import { S3ParquetError } from '../errors.js';
import { openStore } from '../store/index.js';
import { emptyStats, type QueryEngine } from './engine.js';
import { engineFromConfig } from './engine-from-config.js';
import { queryOptionsFrom } from './http.js';
import { recordBatches } from './serialise.js';
import { jsonBatches } from './columnar/json-batches.js';
import type { JsonValue } from './json-values.js';

export interface QueryCliArgs {
  readonly dataset?: string;
  readonly filter?: string;
  readonly select?: string;
  readonly limit?: string;
  readonly start?: string;
  readonly end?: string;
  readonly partition?: string;
  readonly prefix?: string;
  readonly format?: string;
  readonly cursor?: string;
  readonly follow?: boolean;
  readonly 'interval-ms'?: string;
}

async function withEngine<T>(config: Config, run: (engine: QueryEngine) => Promise<T>): Promise<T> {
  const store = await openStore(config, createLogger('silent'), 'cli', { readOnly: true });
  try {
    const engine = engineFromConfig(config, store, 'cli');
    return await run(engine);
  } finally {
    await store.close();
  }
}

function cell(v: JsonValue): string {
  if (v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** A plain text table; long cells are cut so a row stays on one line. */
export function renderTable(rows: Record<string, JsonValue>[], columns: string[], maxWidth = 60): string {
  const text = rows.map((r) => columns.map((c) => {
    const s = cell(r[c] ?? null);
    return s.length > maxWidth ? s.slice(0, maxWidth - 1) + '…' : s;
  }));
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map((t) => t[i]!.length)));
  const line = (cells: string[]) => cells.map((s, i) => s.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...text.map(line)].join('\n') + '\n';
}

export async function queryCommand(config: Config, args: QueryCliArgs, out: NodeJS.WritableStream): Promise<number> {
  const format = args.format ?? 'table';
  if (format !== 'table' && format !== 'ndjson') throw new S3ParquetError('INVALID_ARGUMENT', '--format must be table or ndjson');
  const limit = args.limit === undefined ? undefined : Number(args.limit);
  const q = queryOptionsFrom({
    dataset: args.dataset,
    ...(args.filter !== undefined ? { filter: args.filter } : {}),
    ...(args.select !== undefined ? { select: args.select.split(',').map((s) => s.trim()).filter(Boolean) } : {}),
    ...(limit !== undefined ? { limit } : {}),
    ...(args.start !== undefined ? { start: args.start } : {}),
    ...(args.end !== undefined ? { end: args.end } : {}),
    ...(args.partition !== undefined ? { partition: args.partition } : {}),
  });
  return withEngine(config, async (engine) => {
    const { select } = engine.prepare(q);
    const stats = emptyStats();
    if (format === 'ndjson') {
      // The query port's serialiser: straight from the column arrays, the same bytes.
      for await (const batch of jsonBatches(engine.queryColumns(q, stats), 'ndjson')) await write(out, batch);
      return 0;
    }
    const rows: Record<string, JsonValue>[] = [];
    for await (const rec of engine.query(q, stats)) rows.push(rec);
    out.write(renderTable(rows, select));
    out.write(`(${rows.length} rows; ${stats.files_considered} files, ${stats.row_groups_considered - stats.row_groups_pruned} row groups read, ${stats.elapsed_ms} ms)\n`);
    return 0;
  });
}

export async function partitionsCommand(config: Config, args: QueryCliArgs, out: NodeJS.WritableStream): Promise<number> {
  if (!args.dataset) throw new S3ParquetError('INVALID_ARGUMENT', '--dataset is required (traces, logs or metrics)');
  return withEngine(config, async (engine) => {
    const partitions = await engine.partitions(args.dataset!, args.prefix ?? '');
    if (args.format === 'ndjson') for (const p of partitions) out.write(JSON.stringify({ partition: p }) + '\n');
    else for (const p of partitions) out.write(p + '\n');
    return 0;
  });
}

/**
 * `tail`: the records written since `--cursor` (from the beginning of the write log without
 * one) as NDJSON; with `--follow`, keeps polling every `--interval-ms` until SIGINT/SIGTERM or
 * `stop` aborts. The cursor to resume from goes to stderr at the end.
 */
export async function tailCommand(config: Config, args: QueryCliArgs, out: NodeJS.WritableStream, err: NodeJS.WritableStream, stop?: AbortSignal): Promise<number> {
  if (!args.dataset) throw new S3ParquetError('INVALID_ARGUMENT', '--dataset is required (traces, logs or metrics)');
  const intervalMs = args['interval-ms'] === undefined ? 1000 : Number(args['interval-ms']);
  if (!Number.isInteger(intervalMs) || intervalMs < 10 || intervalMs > 3_600_000) throw new S3ParquetError('INVALID_ARGUMENT', `--interval-ms must be a whole number from 10 to 3600000, got ${JSON.stringify(args['interval-ms'])}`);
  const select = args.select?.split(',').map((c) => c.trim()).filter(Boolean);
  return withEngine(config, async (engine) => {
    let cursor = args.cursor;
    for (;;) {
      const c = await engine.changes({
        dataset: args.dataset!,
        ...(cursor !== undefined ? { cursor } : {}),
        ...(args.filter !== undefined ? { filter: args.filter } : {}),
        ...(select && select.length > 0 ? { select } : {}),
      });
      for await (const batch of recordBatches(c.records(), 'ndjson')) await write(out, batch);
      cursor = c.nextCursor;
      if (c.more) continue;
      if (!args.follow || stop?.aborted) break;
      await sleep(intervalMs, stop);
      if (stop?.aborted) break;
    }
    err.write(`next cursor: ${cursor}\n`);
    return 0;
  });
}

async function write(out: NodeJS.WritableStream, bytes: Uint8Array): Promise<void> {
  if (!out.write(bytes)) await new Promise((r) => out.once('drain', r));
}

function sleep(ms: number, stop?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      stop?.removeEventListener('abort', done);
      resolve();
    }
    stop?.addEventListener('abort', done, { once: true });
  });
}
