/**
 * The embedded default store: a directory on local disk with the same layout as S3.
 *
 * A file is written under a temporary name in its final directory, fsync'd, renamed into
 * place and the directory fsync'd, so a reader (or a crash) never sees a partial file.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { S3ParquetError } from '../errors.js';
import type { ListOptions, ObjectInfo, ObjectStore, StoreRequestHook } from './object-store.js';

/** Temporary files carry this marker; listings skip them. */
const TEMP_MARKER = '.tmp-';

export class LocalStore implements ObjectStore {
  readonly root: string;
  readonly description: string;

  constructor(root: string, private readonly options: { readonly onRequest?: StoreRequestHook } = {}) {
    this.root = resolve(root);
    this.description = `file://${this.root}`;
  }

  /** Runs one operation and reports it to `onRequest`; `answered` errors (ENOENT) count as success. */
  private async timed<T>(operation: string, run: () => Promise<T>, answered?: (err: unknown) => boolean): Promise<T> {
    const hook = this.options.onRequest;
    if (!hook) return run();
    const started = performance.now();
    try {
      const out = await run();
      hook(operation, true, performance.now() - started);
      return out;
    } catch (err) {
      const ok = answered?.(err) ?? false;
      hook(operation, ok, performance.now() - started, ok ? undefined : (err as Error));
      throw err;
    }
  }

  /** Resolves a key inside the root; a key that would leave it is refused. */
  private pathOf(key: string): string {
    const path = resolve(this.root, key);
    if (path !== this.root && !path.startsWith(this.root + sep)) {
      throw new S3ParquetError('INVALID_ARGUMENT', `object key leaves the store root: ${JSON.stringify(key)}`);
    }
    return path;
  }

  put(key: string, body: Uint8Array, _tags?: Readonly<Record<string, string>>): Promise<void> {
    return this.timed('putObject', () => this.putFile(key, body));
  }

  private async putFile(key: string, body: Uint8Array): Promise<void> {
    const path = this.pathOf(key);
    let temp: string | undefined;
    try {
      temp = await writeSynced(path, body);
      await rename(temp, path);
      await syncDir(dirname(path));
    } catch (err) {
      if (temp) await rm(temp, { force: true }).catch(() => undefined);
      throw storeError('put', key, err);
    }
  }

  putIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    return this.timed('putObject', () => this.putFileIfAbsent(key, body));
  }

  /** Complete under a temporary name, then link(2) into place: fails with EEXIST, atomically. */
  private async putFileIfAbsent(key: string, body: Uint8Array): Promise<boolean> {
    const path = this.pathOf(key);
    let temp: string | undefined;
    try {
      temp = await writeSynced(path, body);
      try {
        await link(temp, path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw err;
      }
      await syncDir(dirname(path));
      return true;
    } catch (err) {
      throw storeError('put', key, err);
    } finally {
      if (temp) await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  get(key: string): Promise<Uint8Array> {
    return this.timed('getObject', () => this.getFile(key));
  }

  private async getFile(key: string): Promise<Uint8Array> {
    const path = this.pathOf(key);
    try {
      const fh = await open(path, 'r');
      try {
        return await fh.readFile();
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw storeError('get', key, err);
    }
  }

  getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return this.timed('getObject', () => this.getFileRange(key, offset, length));
  }

  private async getFileRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    const path = this.pathOf(key);
    try {
      const fh = await open(path, 'r');
      try {
        const buf = Buffer.alloc(length);
        const { bytesRead } = await fh.read(buf, 0, length, offset);
        return buf.subarray(0, bytesRead);
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw storeError('getRange', key, err);
    }
  }

  head(key: string): Promise<ObjectInfo | null> {
    return this.timed('headObject', () => this.headFile(key));
  }

  private async headFile(key: string): Promise<ObjectInfo | null> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? { key, size: s.size, lastModified: s.mtime } : null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw storeError('head', key, err);
    }
  }

  async *list(prefix: string, options: ListOptions = {}): AsyncIterable<ObjectInfo> {
    // Walk only below the deepest directory the prefix names, then filter by the full prefix.
    const slash = prefix.lastIndexOf('/');
    const base = slash >= 0 ? prefix.slice(0, slash) : '';
    const after = options.startAfter;
    yield* this.walk(base, prefix, after);
  }

  /** Files below `dirKey` under `prefix`, in key order; keys at or before `after` are skipped unstat'ed (a write log's old entries). */
  private async *walk(dirKey: string, prefix: string, after: string | undefined): AsyncIterable<ObjectInfo> {
    let entries;
    try {
      entries = await this.timed('listObjects', () => readdir(this.pathOf(dirKey), { withFileTypes: true }), (err) => {
        const code = (err as NodeJS.ErrnoException).code;
        return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG';
      });
    } catch (err) {
      // A directory whose name the file system cannot hold has nothing in it either.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ENAMETOOLONG') return;
      throw storeError('list', dirKey, err);
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
      if (entry.name.includes(TEMP_MARKER) || entry.name.startsWith('.')) continue;
      if (entry.isDirectory()) {
        if (prefix.startsWith(key + '/') || (key + '/').startsWith(prefix) || key.startsWith(prefix)) yield* this.walk(key, prefix, after);
      } else if (entry.isFile() && key.startsWith(prefix) && (after === undefined || key > after)) {
        const s = await stat(join(this.root, key));
        yield { key, size: s.size, lastModified: s.mtime };
      }
    }
  }

  delete(keys: readonly string[]): Promise<void> {
    return this.timed('deleteObjects', () => this.deleteFiles(keys));
  }

  private async deleteFiles(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      try {
        await rm(this.pathOf(key), { force: true });
      } catch (err) {
        // A name the file system cannot hold cannot exist either: nothing to delete.
        if ((err as NodeJS.ErrnoException).code === 'ENAMETOOLONG') continue;
        throw storeError('delete', key, err);
      }
    }
  }

  async close(): Promise<void> {}
}

/**
 * Writes `body` completely and durably under a temporary name beside `path` (its directory made
 * if needed) and returns that name; the caller moves it into place. A failed write removes it.
 */
async function writeSynced(path: string, body: Uint8Array): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  const temp = `${path}${TEMP_MARKER}${randomBytes(6).toString('hex')}`;
  try {
    const fh = await open(temp, 'wx');
    try {
      await fh.writeFile(body);
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    await rm(temp, { force: true }).catch(() => undefined);
    throw err;
  }
  return temp;
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function storeError(op: string, key: string, err: unknown): S3ParquetError {
  if (err instanceof S3ParquetError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new S3ParquetError('STORE_FAILED', `local store ${op} ${JSON.stringify(key)} failed: ${msg}`, { cause: err });
}
