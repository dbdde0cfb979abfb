/**
 * Loading: TOML text -> env interpolation -> schema validation -> frozen Config.
 * Every problem in a document is collected and reported at once, so fixing a
 * config is one edit-and-retry cycle rather than one per mistake.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse, TomlError } from 'smol-toml';
import type * as z from 'zod';
import { ConfigError, type ConfigIssue } from './errors.js';
import { Interpolated, interpolateTree, type PathSegment } from './interpolate.js';
import { isSecretKey } from './redact.js';
import { s3Problems } from './s3-schema.js';
import { configSchema, effectiveBackend, type Config } from './schema.js';

/** Looked up in the working directory when no path is given. */
export const DEFAULT_CONFIG_FILE = 's3-parquet.toml';

export interface ParseConfigOptions {
  /** Variables for `${VAR}` interpolation; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Prefix for error lines, usually the file name. */
  source?: string;
}

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  /** Directory that relative paths and the default file are resolved against. */
  cwd?: string;
}

// Frozen at runtime only: the type stays the plain inferred Config so callers can pass parts around freely.
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A fresh, deep-frozen configuration with every default applied. */
export function defaultConfig(): Config {
  return deepFreeze(configSchema.parse({}));
}

/** "a.b[2].c"; keys that are not bare TOML keys are quoted so the path is unambiguous. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else {
      const name = String(seg);
      const key = /^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name);
      out += out === '' ? key : `.${key}`;
    }
  }
  return out;
}

/** Short description of an offending value for error messages. */
function describeValue(v: unknown): string {
  if (v instanceof Interpolated) return describeValue(v.value);
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? `${v.slice(0, 77)}...` : v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return 'a date/time';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && v !== null) return 'a table';
  return typeof v;
}

/** The keys a table accepts, read off the defaults (every table has one). */
function knownKeys(path: readonly PropertyKey[]): string[] {
  let node: unknown = configSchema.parse({});
  for (const seg of path) {
    if (typeof seg === 'number' || node === null || typeof node !== 'object') return [];
    node = (node as Record<string, unknown>)[String(seg)];
  }
  return node !== null && typeof node === 'object' && !Array.isArray(node) ? Object.keys(node) : [];
}

/** Edit distance, for "did you mean" (keys are short: the quadratic table is fine). */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const next = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = row[j]!;
      row[j] = next;
    }
  }
  return row[b.length]!;
}

/** The known key nearest to `key`, when it is near enough to be a typo. */
function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 3)) + 1;
  for (const k of known) {
    const d = k.toLowerCase() === key.toLowerCase() ? 0 : distance(key, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  return best;
}

function toConfigIssues(iss: z.core.$ZodIssue): ConfigIssue[] {
  if (iss.code === 'unrecognized_keys') {
    return iss.keys.map((k) => {
      const guess = closestKey(k, knownKeys(iss.path));
      return { path: formatPath([...iss.path, k]), message: guess ? `unknown key (did you mean "${guess}"?)` : 'unknown key' };
    });
  }
  // Never echo a value that sits under a secret-looking key.
  const secret = iss.path.some((seg) => typeof seg === 'string' && isSecretKey(seg));
  const showInput = iss.input !== undefined && !secret;
  const message = showInput ? `${iss.message}, got ${describeValue(iss.input)}` : iss.message;
  return [{ path: formatPath(iss.path), message }];
}

function parseToml(text: string, source: string | undefined): unknown {
  try {
    // 'throw' rejects __proto__/constructor keys instead of carrying them into objects.
    return parse(text.replace(/^\uFEFF/, ''), { unsafeKeyBehaviour: 'throw' });
  } catch (err) {
    if (!(err instanceof TomlError)) throw err;
    // Only the first line: the library's code excerpt could echo a secret from the file.
    const reason = (err.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '');
    const message = `TOML syntax error at line ${err.line}, column ${err.column}: ${reason}`;
    throw ConfigError.fromIssues([{ path: '', message }], source, { cause: err });
  }
}

/**
 * Parses and validates TOML text. `${VAR}` and `${VAR:-default}` are expanded in
 * string values only (`$${` is a literal `${`). Throws ConfigError listing every problem.
 */
export function parseConfigText(text: string, opts: ParseConfigOptions = {}): Config {
  return validateConfigObject(parseToml(text, opts.source), opts);
}

/**
 * Validates a configuration given as an object shaped like the TOML document (what the library's
 * `S3ParquetConnector.fromConfig` and the fluent configs build). Same rules and errors as a file.
 */
export function validateConfigObject(raw: unknown, opts: ParseConfigOptions = {}): Config {
  const expanded = interpolateTree(raw, opts.env ?? process.env);
  const issues: ConfigIssue[] = expanded.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));

  const result = configSchema.safeParse(expanded.value, { reportInput: true });
  if (!result.success) {
    // A value whose interpolation failed is already reported; skip follow-on errors for it.
    const failed = expanded.issues.map((i) => i.path);
    const isUnder = (p: readonly PropertyKey[], prefix: readonly PathSegment[]) =>
      prefix.length <= p.length && prefix.every((seg, i) => seg === p[i]);
    for (const iss of result.error.issues) {
      if (failed.some((f) => isUnder(iss.path, f))) continue;
      issues.push(...toConfigIssues(iss));
    }
  }
  if (result.success) {
    for (const [path, message] of s3Problems(effectiveBackend(result.data), result.data.s3)) issues.push({ path, message });
  }
  if (issues.length > 0 || !result.success) throw ConfigError.fromIssues(issues, opts.source);
  return deepFreeze(result.data);
}

function readConfigFile(absPath: string, shownAs: string, missingOk: boolean): string | undefined {
  try {
    return readFileSync(absPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && missingOk) return undefined;
    const message =
      code === 'ENOENT'
        ? `config file not found: ${shownAs}`
        : `cannot read config file ${shownAs}: ${(err as Error).message}`;
    throw new ConfigError(message, [{ path: '', message }], { cause: err });
  }
}

/**
 * Loads the configuration. With a path, that file must exist. Without one,
 * ./s3-parquet.toml is used when present, otherwise the defaults.
 * The result is deep-frozen.
 */
export function loadConfig(path: string | undefined, opts: LoadConfigOptions = {}): Config {
  const cwd = opts.cwd ?? process.cwd();
  const shownAs = path ?? DEFAULT_CONFIG_FILE;
  const text = readConfigFile(resolve(cwd, shownAs), shownAs, path === undefined);
  if (text === undefined) return defaultConfig();
  return parseConfigText(text, { env: opts.env, source: shownAs });
}
