/**
 * Deletes the files a compaction replaced once `delete_grace_seconds` have passed (the records
 * are described in src/log/pending-deletes.ts). Any compactor of the store deletes what is due,
 * so the deletion survives a restart of whoever wrote the record.
 *
 * A key is deleted only when the dataset's complete write-log view no longer has it: a record
 * can never take away a file the log still names (a swap that did not land, say).
 */
import { decodePendingDeletes, pendingDeletesPrefix } from '../log/pending-deletes.js';
import type { WriteLog } from '../log/write-log.js';
import type { ObjectStore } from '../store/object-store.js';

export { recordPendingDeletes } from '../log/pending-deletes.js';

/**
 * Deletes the files of every due record (or all records with `all`) that the log no longer
 * names, then the record. Returns the number of files deleted; a record is kept (and retried
 * next time) while the log is incomplete or the store fails.
 */
export async function deleteDue(store: ObjectStore, log: WriteLog, dataset: string, nowMs: number): Promise<number> {
  const due: { key: string; keys: string[] }[] = [];
  for await (const info of store.list(pendingDeletesPrefix(dataset))) {
    const r = decodePendingDeletes(await store.get(info.key).catch(() => new Uint8Array()));
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
