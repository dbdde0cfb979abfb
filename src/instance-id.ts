/** Instance ids name every file a writer makes, so several writers share a bucket without coordination. */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/** hostname plus a short per-start id: unique across restarts and across a fleet. */
export function deriveInstanceId(configured: string): string {
  const base = configured !== '' ? configured : hostname().replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 48) || 'instance';
  return `${base}-${randomBytes(3).toString('hex')}`;
}
