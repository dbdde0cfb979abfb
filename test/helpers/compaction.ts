/** Checks shared by the compaction tests: what the log names, what the store holds, counts. */
import type { ChildProcess } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { WriteLog } from '../../src/log/write-log.js';
import { QueryEngine } from '../../src/query/engine.js';
import type { ObjectStore } from '../../src/store/object-store.js';

export async function localParquetKeys(data: string, dataset = 'traces'): Promise<string[]> {
  const out: string[] = [];
  const root = join(data, dataset);
  for (const e of await readdir(root, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (e.isFile() && e.name.endsWith('.parquet')) out.push(`${dataset}/${join(e.parentPath, e.name).slice(root.length + 1)}`);
  }
  return out.sort();
}

/** Lease bodies found under `_leases/` (local store). */
export async function localLeases(data: string): Promise<{ outputs: string[]; holder: string }[]> {
  const out: { outputs: string[]; holder: string }[] = [];
  for (const e of await readdir(join(data, '_leases'), { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!e.isFile() || !e.name.endsWith('.json')) continue;
    try {
      out.push(JSON.parse(await readFile(join(e.parentPath, e.name), 'utf8')) as { outputs: string[]; holder: string });
    } catch {
      // written meanwhile
    }
  }
  return out;
}

export function engineOver(store: ObjectStore, log: WriteLog): QueryEngine {
  return new QueryEngine({ store, layout: { granularity: 'hour', format: 'date=%Y-%m-%d/hour=%H', byService: false }, promoted: { traces: [], logs: [], metrics: [] }, writeLog: log });
}

/** Every span of the dataset through the query engine: rows, and distinct span ids. */
export async function countSpans(engine: QueryEngine): Promise<{ rows: number; distinct: number }> {
  const ids = new Set<string>();
  let rows = 0;
  for await (const r of engine.query({ dataset: 'traces', select: ['span_id'] })) {
    rows++;
    ids.add(String(r.span_id));
  }
  return { rows, distinct: ids.size };
}

/** The changes feed from the beginning, read in pages: the files it delivers. */
export async function changesFromBeginning(log: WriteLog, maxEntries = 7): Promise<{ key: string; rows: number }[]> {
  const files: { key: string; rows: number }[] = [];
  let cursor: string | undefined;
  for (;;) {
    const c = await log.changes('traces', cursor, { maxEntries });
    files.push(...c.files.map((f) => ({ key: f.key, rows: f.rows })));
    cursor = c.nextCursor;
    if (!c.more) return files;
  }
}

/** The view's keys of a dataset (throws when the log is not complete). */
export async function loggedKeys(store: ObjectStore, dataset = 'traces'): Promise<string[]> {
  const v = await new WriteLog({ store, instanceId: 'check' }).view(dataset);
  if (!v.complete) throw new Error(`write log not complete: ${v.reason}`);
  return v.files.map((f) => f.key).sort();
}

/** The write log's compaction entries (`…-{instance}-c{seq}.json`) of a local store. */
export async function compactionEntries(data: string, dataset = 'traces'): Promise<string[]> {
  const names = await readdir(join(data, '_log', dataset)).catch(() => [] as string[]);
  return names.filter((n) => /-c\d+\.json$/.test(n)).sort();
}

/** Resolves once the child writes a stderr line matching `pattern` (the compaction pause points). */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 120_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`no stderr line matching ${pattern} within ${timeoutMs} ms; stderr: ${seen.slice(-2000)}`)), timeoutMs);
    const onData = (b: Buffer): void => {
      seen += b.toString();
      const line = seen.split('\n').find((l) => pattern.test(l));
      if (line === undefined) return;
      clearTimeout(timer);
      child.stderr?.off('data', onData);
      resolve(line);
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before a stderr line matching ${pattern}; stderr: ${seen.slice(-2000)}`));
    });
  });
}
