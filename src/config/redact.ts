/**
 * Redaction for anything that prints configuration (the `config` command,
 * startup logs, error messages). No key in today's schema is secret, but S3
 * credentials will be, and the effective config must be safe to paste into an
 * issue once they exist.
 */
import { stringify } from 'smol-toml';
import { effectiveBackend, type Config } from './schema.js';

export const REDACTED = '***redacted***';

const SECRET_NAMES = new Set(['secret', 'password', 'token', 'key', 'secrets', 'passwords', 'tokens']);
// Plurals are lists of secrets ([auth] receiver_tokens, query_tokens): each element is redacted.
const SECRET_SUFFIXES = ['_secret', '_password', '_token', '_key', '_secrets', '_passwords', '_tokens'];

/**
 * True for key names that hold secret material: "secret", "password", "token",
 * "key" and anything ending in "_secret", "_password", "_token" or "_key"
 * (secret_access_key, session_token, private_key, ...), and the plurals "_secrets",
 * "_passwords", "_tokens" (receiver_tokens, query_tokens: lists of secrets). Identifiers such
 * as "kms_key_id", "access_key_id" or file paths ("key_file", "receiver_token_files") are not
 * secret and do not match.
 */
export function isSecretKey(name: string): boolean {
  const n = name.toLowerCase();
  return SECRET_NAMES.has(n) || SECRET_SUFFIXES.some((s) => n.endsWith(s));
}

/**
 * A URL with its user-info (`https://user:secret@host/`) replaced by REDACTED: credentials
 * embedded in `[s3] endpoint` must not reach `check-config`, logs or error messages.
 */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#@]*@/i, `$1${REDACTED}@`);
}

function redactValue(value: unknown): unknown {
  if (typeof value === 'string') return value === '' ? value : REDACTED;
  if (Array.isArray(value)) return value.map(redactValue);
  return value;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function walk(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(walk);
  if (typeof node === 'string') return redactUrl(node);
  if (!isPlainObject(node)) return node; // scalars, TOML dates
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    // An empty value stays visible: "not set" is useful and reveals nothing.
    out[k] = isSecretKey(k) ? redactValue(v) : walk(v);
  }
  return out;
}

/** A deep copy of `config` with non-empty secret strings replaced by REDACTED. */
export function redactConfig(config: unknown): unknown {
  return walk(config);
}

/**
 * The effective configuration as TOML, secrets redacted; `storage.backend` is what "auto"
 * resolved to (a comment says so), since that is what the daemon will use.
 */
export function renderConfigToml(config: Config): string {
  const shown = redactConfig(config) as { storage: { backend: string } };
  const resolved = effectiveBackend(config);
  if (config.storage.backend === 'auto') shown.storage.backend = resolved;
  const text = stringify(shown);
  if (config.storage.backend !== 'auto') return text;
  return text.replace(/^backend = "(local|s3)"$/m, `backend = "${resolved}" # "auto" resolved: ${resolved === 's3' ? 's3.bucket is set' : 'no s3.bucket'}`);
}
