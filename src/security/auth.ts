/**
 * Bearer-token authentication, one token set per side (receivers write, the query port reads).
 *
 * Tokens come from the config (`[auth] receiver_tokens`) and from files (`receiver_token_files`,
 * one token a line, blank lines and `#` comments ignored), read once at startup. Only SHA-256
 * digests are kept; a presented token is hashed and compared with every digest using
 * `crypto.timingSafeEqual`, without an early exit, so the time taken does not depend on how
 * much of a token matched or which one did. An empty set means no authentication.
 *
 * Nothing here ever puts a token, or a line of a token file, into an error or a log.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { ConfigIssue } from '../config/errors.js';
import { tokenProblem } from '../config/security-schema.js';

const digest = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** `Bearer <token>` (scheme case-insensitive, RFC 6750); undefined for anything else. */
export function bearerToken(header: string | readonly string[] | undefined): string | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (typeof value !== 'string') return undefined;
  const m = /^[Bb][Ee][Aa][Rr][Ee][Rr] +([\x21-\x7e]+) *$/.exec(value);
  return m?.[1];
}

const matches = (presented: Buffer, digests: readonly Buffer[]): boolean => {
  let ok = false;
  for (const d of digests) ok = timingSafeEqual(presented, d) || ok;
  return ok;
};

/**
 * One side's tokens: full tokens, and (query port only) read-only tokens, which pass
 * `verify` but not `canWrite` (they may query, not delete partitions).
 */
export class BearerAuth {
  private readonly digests: readonly Buffer[];
  private readonly readOnly: readonly Buffer[];

  constructor(tokens: readonly string[], readOnlyTokens: readonly string[] = []) {
    this.digests = [...new Set(tokens)].map(digest);
    const full = new Set(tokens);
    this.readOnly = [...new Set(readOnlyTokens)].filter((t) => !full.has(t)).map(digest);
  }

  /** False when no token is configured: every request passes. */
  get enabled(): boolean {
    return this.digests.length + this.readOnly.length > 0;
  }

  get tokenCount(): number {
    return this.digests.length + this.readOnly.length;
  }

  get readOnlyTokenCount(): number {
    return this.readOnly.length;
  }

  /** Checks an `Authorization` header value (HTTP header or gRPC metadata): any token kind. */
  verify(authorization: string | readonly string[] | undefined): boolean {
    if (!this.enabled) return true;
    const token = bearerToken(authorization);
    if (token === undefined) return false;
    const presented = digest(token);
    // Both sets are always compared, so the time taken does not say which kind matched.
    const full = matches(presented, this.digests);
    return matches(presented, this.readOnly) || full;
  }

  /** True for a full token (or with authentication off); false for a read-only one. */
  canWrite(authorization: string | readonly string[] | undefined): boolean {
    if (!this.enabled) return true;
    const token = bearerToken(authorization);
    if (token === undefined) return false;
    return matches(digest(token), this.digests);
  }
}

/**
 * Reads token files: one token a line; blank lines and lines starting with `#` are skipped.
 * Problems are reported with the key path and line number, never with the line itself.
 */
export function readTokenFiles(files: readonly string[], keyPath: string, issues: ConfigIssue[]): string[] {
  const tokens: string[] = [];
  files.forEach((file, i) => {
    const path = `${keyPath}[${i}]`;
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      issues.push({ path, message: `cannot read token file "${file}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
      return;
    }
    let found = 0;
    text.split(/\r?\n/).forEach((raw, n) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const problem = tokenProblem(line);
      if (problem !== undefined) {
        issues.push({ path, message: `"${file}" line ${n + 1}: ${problem}` });
        return;
      }
      tokens.push(line);
      found++;
    });
    // An empty file must not silently turn authentication off.
    if (found === 0) issues.push({ path, message: `token file "${file}" holds no token` });
  });
  return tokens;
}

/** The token set of one side, from the inline list and the files (and read-only ones, for the query port). */
export function loadAuth(
  inline: readonly string[],
  files: readonly string[],
  filesKeyPath: string,
  issues: ConfigIssue[],
  readOnly?: { readonly inline: readonly string[]; readonly files: readonly string[]; readonly filesKeyPath: string },
): BearerAuth {
  const full = [...inline, ...readTokenFiles(files, filesKeyPath, issues)];
  const ro = readOnly ? [...readOnly.inline, ...readTokenFiles(readOnly.files, readOnly.filesKeyPath, issues)] : [];
  return new BearerAuth(full, ro);
}
