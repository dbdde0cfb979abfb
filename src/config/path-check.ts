/**
 * Start-up checks of every directory and file the configuration names, before anything else
 * runs: an impossible path is one line naming the key, the path and the OS reason, instead of
 * a stack trace later (or, for `local_path = "/proc/nope/data"`, a recursive mkdir that never
 * returns — Node's `mkdir({ recursive: true })` spins on some /proc paths).
 *
 * Directories are created one level at a time (never recursively), then probed with a file,
 * so the OS answers exactly what the daemon will meet: ENOTDIR, ENOENT, EACCES, EROFS.
 */
import { closeSync, mkdirSync, openSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from './errors.js';
import { effectiveBackend, type Config } from './schema.js';

/** Where the write-ahead log lives: `[wal] dir`, else `{local_path}/.wal` (local) or `./wal`. */
export function walDirOf(config: Config): string {
  if (config.wal.dir !== '') return config.wal.dir;
  return effectiveBackend(config) === 'local' ? join(config.storage.local_path, '.wal') : './wal';
}

function osReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  // "ENOENT: no such file or directory, mkdir '/proc/nope'" → "no such file or directory (ENOENT) at /proc/nope"
  const text = (e.message ?? String(err)).replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
  return `${text}${e.code ? ` (${e.code})` : ''}${e.path ? ` at ${e.path}` : ''}`;
}

/** Makes `path` exist as a writable directory, or says why it cannot. */
function ensureWritableDir(key: string, path: string): ConfigIssue | undefined {
  const absolute = resolve(path);
  const missing: string[] = [];
  let at = absolute;
  for (;;) {
    try {
      const st = statSync(at);
      if (!st.isDirectory()) return { path: key, message: `cannot use ${JSON.stringify(path)} as a directory: ${at} is not a directory (ENOTDIR)` };
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR') {
        missing.unshift(at);
        at = dirname(at);
        continue;
      }
      if (code !== 'ENOENT') return { path: key, message: `cannot use ${JSON.stringify(path)} as a directory: ${osReason(err)}` };
      const parent = dirname(at);
      if (parent === at) return { path: key, message: `cannot use ${JSON.stringify(path)} as a directory: no existing parent directory` };
      missing.unshift(at);
      at = parent;
    }
  }
  try {
    for (const dir of missing) mkdirSync(dir);
    const probe = join(absolute, `.write-probe-${process.pid}`);
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (err) {
    return { path: key, message: `cannot create or write directory ${JSON.stringify(path)}: ${osReason(err)}` };
  }
  return undefined;
}

function checkReadableFile(key: string, path: string): ConfigIssue | undefined {
  try {
    readFileSync(path);
    return undefined;
  } catch (err) {
    return { path: key, message: `cannot read file ${JSON.stringify(path)}: ${osReason(err)}` };
  }
}

/**
 * Checks (and creates) the directories the daemon writes and the files it reads at start-up
 * that `loadSecurity` does not (TLS and token files are read, with their keys, there).
 * Throws one ConfigError listing every problem, each `key: message` on its own line.
 */
export function checkConfigPaths(config: Config): void {
  const issues: ConfigIssue[] = [];
  const add = (issue: ConfigIssue | undefined): void => {
    if (issue) issues.push(issue);
  };
  if (effectiveBackend(config) === 'local') add(ensureWritableDir('storage.local_path', config.storage.local_path));
  // The default log dir lies under local_path: one problem, reported once.
  if (config.wal.enabled && (config.wal.dir !== '' || issues.length === 0)) add(ensureWritableDir('wal.dir', walDirOf(config)));
  if (effectiveBackend(config) === 's3' && config.s3.encryption.type === 'client' && config.s3.encryption.client_key_file !== '') {
    add(checkReadableFile('s3.encryption.client_key_file', config.s3.encryption.client_key_file));
  }
  if (issues.length > 0) throw ConfigError.fromIssues(issues);
}
