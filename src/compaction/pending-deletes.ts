/**
 * Files a compaction replaced, waiting for `delete_grace_seconds` before they are deleted:
 * one record per compaction, `_compaction/deletes/{dataset}/{due time}-{holder}.json`, so the
 * deletion survives a restart of whoever wrote it (any compactor of the store deletes what is due).
 *
 * A key is deleted only when the dataset's complete write-log view no longer has it: a record
 * can never take away a file the log still names (a swap that did not land, say).
 */
import { randomBytes } from 'node:crypto';
import { sortableUtc } from '../log/entry.js';
import type { WriteLog } from '../log/write-log.js';
import type { ObjectStore } from '../store/object-store.js';

export const PENDING_DELETES_ROOT = '_compaction/deletes';

export function pendingDeletesPrefix(dataset: string): string {
  return `${PENDING_DELETES_ROOT}/${dataset}/`;
}

export async function recordPendingDeletes(store: ObjectStore, dataset: string, holder: string, keys: readonly string[], dueMs: number): Promise<string> {
  const key = `${pendingDeletesPrefix(dataset)}${sortableUtc(dueMs)}-${holder}-${randomBytes(3).toString('hex')}.json`;
  await store.put(key, new TextEncoder().encode(JSON.stringify({ v: 1, dataset, due_ms: dueMs, keys })));
  return key;
}

function decode(body: Uint8Array): { dueMs: number; keys: string[] } | null {
  try {
    const j = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    if (j.v !== 1 || !Number.isSafeInteger(j.due_ms) || !Array.isArray(j.keys) || !j.keys.every((k) => typeof k === 'string')) return null;
    return { dueMs: j.due_ms as number, keys: j.keys as string[] };
  } catch {
    return null;
  }
}

/** Keys replaced by a compaction and not deleted yet (listing readers skip them). */
export async function pendingDeleteKeys(store: ObjectStore, dataset: string): Promise<Set<string>> {
  const out = new Set<string>();
  for await (const info of store.list(pendingDeletesPrefix(dataset))) {
    const r = decode(await store.get(info.key).catch(() => new Uint8Array()));
    for (const k of r?.keys ?? []) out.add(k);
  }
  return out;
}

/**
 * Deletes the files of every due record (or all records with `all`) that the log no longer
 * names, then the record. Returns the number of files deleted; a record is kept (and retried
 * next time) while the log is incomplete or the store fails.
 */
export async function deleteDue(store: ObjectStore, log: WriteLog, dataset: string, nowMs: number): Promise<number> {
  const due: { key: string; keys: string[] }[] = [];
  for await (const info of store.list(pendingDeletesPrefix(dataset))) {
    const r = decode(await store.get(info.key).catch(() => new Uint8Array()));
    if (r === null) {
      await store.delete([info.key]); // damaged: its files stay (a listing reader may see them twice)
      continue;
    }
    if (r.dueMs <= nowMs) due.push({ key: info.key, keys: r.keys });
  }
  if (due.length === 0) return 0;
  const view = await log.view(dataset);
  if (!view.complete) return 0;
  const live = new Set(view.files.map((f) => f.key));
  let deleted = 0;
  for (const d of due) {
    const gone = d.keys.filter((k) => !live.has(k));
    if (gone.length > 0) await store.delete(gone);
    deleted += gone.length;
    await store.delete([d.key]);
  }
  return deleted;
}
