/**
 * Files a compaction replaced, waiting for `delete_grace_seconds` before they are deleted:
 * one record per compaction, `_compaction/deletes/{dataset}/{due time}-{holder}.json`, so the
 * deletion survives a restart of whoever wrote it (any compactor of the store deletes what is due).
 *
 * The record format lives beside the write log because every reader needs it: a reader that
 * lists a dataset instead of using the log (the query engine's fallback, the library) must skip
 * the files these records name. Compaction writes them and deletes what is due
 * (src/compaction/pending-deletes.ts).
 */
import { randomBytes } from 'node:crypto';
import { sortableUtc } from './entry.js';
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

export function decodePendingDeletes(body: Uint8Array): { dueMs: number; keys: string[] } | null {
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
    const r = decodePendingDeletes(await store.get(info.key).catch(() => new Uint8Array()));
    for (const k of r?.keys ?? []) out.add(k);
  }
  return out;
}

