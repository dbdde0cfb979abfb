/** The write log (docs/write-log.md): entries per flush, checkpoints, cursors for incremental reads. */
export { WriteLog, DEFAULT_SETTLE_WINDOW_MS, DEFAULT_MAX_ENTRIES_PER_READ, listPages, oneOffInstanceId, unknownFile } from './write-log.js';
export type { WriteLogOptions, LogView, Changes, RebuildResult } from './write-log.js';
export { footerDescriber } from './describe.js';
export { LOG_ROOT, checkpointKey, entryKey, entryKeyTime, entryPrefix } from './entry.js';
export type { Checkpoint, LogEntry, LoggedFile } from './entry.js';
export { decodeCursor, encodeCursor, advanceCursor, entryHash, beginningCursor } from './cursor.js';
export type { Cursor } from './cursor.js';
