/**
 * One lease object per partition under compaction, `_leases/{dataset}/{partition}.json`: who
 * holds it (instance id), until when, and — once the merge knows them — the output keys it is
 * about to upload and the input keys it replaces. The body is the compaction's intent record:
 * a holder that died leaves it behind, and whoever finds it expired undoes or finishes the work
 * (recover.ts) before taking it.
 *
 * Taken with a conditional create (`ObjectStore.putIfAbsent`: S3 `If-None-Match: *`, local
 * link(2)), then read back, so a store that ignored the condition is caught unless two takers
 * write within the same instant. Taking over an expired lease deletes it first: two takers
 * that both saw it expired race there, and the loser is caught when it re-reads its lease
 * before the swap and finds the other's (docs/compaction.md, "Several writers").
 */
import { S3ParquetError } from '../errors.js';
import type { ObjectStore } from '../store/object-store.js';

export const LEASE_ROOT = '_leases';

export interface LeaseBody {
  readonly holder: string;
  readonly dataset: string;
  readonly partition: string;
  readonly expiresMs: number;
  /** Files this compaction is about to upload or has uploaded (not yet in the write log). */
  readonly outputs: readonly string[];
  /** Files those outputs replace. */
  readonly inputs: readonly string[];
}

export function leaseKey(dataset: string, partition: string): string {
  return `${LEASE_ROOT}/${dataset}/${partition}.json`;
}

export function encodeLease(b: LeaseBody): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, holder: b.holder, dataset: b.dataset, partition: b.partition, expires_ms: b.expiresMs, outputs: b.outputs, inputs: b.inputs }));
}

/** Parses a lease; null when it is not one (a damaged lease counts as expired, with no intent). */
export function decodeLease(body: Uint8Array): LeaseBody | null {
  try {
    const j = JSON.parse(new TextDecoder().decode(body)) as Record<string, unknown>;
    const strings = (x: unknown): x is string[] => Array.isArray(x) && x.every((k) => typeof k === 'string');
    if (j.v !== 1 || typeof j.holder !== 'string' || typeof j.dataset !== 'string' || typeof j.partition !== 'string' || !Number.isSafeInteger(j.expires_ms)) return null;
    if (!strings(j.outputs) || !strings(j.inputs)) return null;
    return { holder: j.holder, dataset: j.dataset, partition: j.partition, expiresMs: j.expires_ms as number, outputs: j.outputs, inputs: j.inputs };
  } catch {
    return null;
  }
}

export async function readLease(store: ObjectStore, key: string): Promise<LeaseBody | null | 'absent'> {
  if (!(await store.head(key))) return 'absent';
  try {
    return decodeLease(await store.get(key));
  } catch (err) {
    if (!(await store.head(key))) return 'absent';
    throw err;
  }
}

/** A lease this process holds: renewed on a timer, its intent updated before uploads. */
export class Lease {
  private body: LeaseBody;
  private timer: NodeJS.Timeout | undefined;
  private lostReason: string | undefined;
  private renewing: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: ObjectStore,
    readonly key: string,
    body: LeaseBody,
    private readonly leaseMs: number,
    private readonly now: () => number,
  ) {
    this.body = body;
    // Renewed at a third of its length: two renewals may fail before another taker sees it expired.
    this.timer = setInterval(() => void this.renew(), Math.max(1000, Math.floor(leaseMs / 3)));
    this.timer.unref();
  }

  get current(): LeaseBody {
    return this.body;
  }

  /** Rewrites the lease with the outputs about to be uploaded (the intent a crash leaves). */
  async recordIntent(outputs: readonly string[], inputs: readonly string[]): Promise<void> {
    // In the renewals' chain: a renewal that read the body before this write finished would
    // otherwise rewrite the lease without the outputs, and a crash then would leave them orphaned.
    const written = this.renewing.then(() => this.write({ ...this.body, outputs, inputs, expiresMs: this.now() + this.leaseMs }));
    this.renewing = written.catch(() => undefined);
    await written;
  }

  /** Throws when the lease is no longer ours (expired, or another holder's): no swap then. */
  async verify(): Promise<void> {
    await this.renewing;
    if (this.lostReason) throw new S3ParquetError('STORE_FAILED', `compaction lease ${this.key} lost: ${this.lostReason}`);
    const found = await readLease(this.store, this.key);
    if (found === 'absent' || found === null || found.holder !== this.body.holder) {
      throw new S3ParquetError('STORE_FAILED', `compaction lease ${this.key} lost: ${found === 'absent' ? 'it was deleted' : `it is held by ${found?.holder ?? 'a damaged body'}`}`);
    }
    // Enough of the lease must be left for the swap (one small write) to land inside it.
    if (found.expiresMs - this.now() < this.leaseMs / 3) throw new S3ParquetError('STORE_FAILED', `compaction lease ${this.key} is about to expire`);
  }

  private renew(): Promise<void> {
    this.renewing = this.renewing.then(async () => {
      if (this.lostReason || !this.timer) return;
      try {
        const found = await readLease(this.store, this.key);
        if (found === 'absent' || found === null || found.holder !== this.body.holder) {
          this.lostReason = found === 'absent' ? 'it was deleted' : 'another holder took it';
          return;
        }
        await this.write({ ...this.body, expiresMs: this.now() + this.leaseMs });
      } catch {
        // the next renewal tries again; verify() refuses the swap if the lease ran out
      }
    });
    return this.renewing;
  }

  private async write(b: LeaseBody): Promise<void> {
    await this.store.put(this.key, encodeLease(b));
    this.body = b;
  }

  /** Stops renewing (idempotent). */
  async stopRenewing(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.renewing;
  }

  /** Stops renewing and deletes the lease if it is still ours (best effort: an expired lease is harmless). */
  async release(): Promise<void> {
    await this.stopRenewing();
    try {
      const found = await readLease(this.store, this.key);
      if (found !== 'absent' && found !== null && found.holder === this.body.holder) await this.store.delete([this.key]);
    } catch {
      // left to expire
    }
  }

  /** Stops renewing and leaves the lease and its intent to expire: recovery decides then. */
  async abandon(): Promise<void> {
    await this.stopRenewing();
  }
}

/**
 * Takes the lease of a partition, or returns the expired lease a dead holder left (for the caller
 * to recover before calling again with `takeOver`) or 'busy' when a live holder has it.
 */
export async function acquireLease(
  store: ObjectStore,
  o: { readonly holder: string; readonly dataset: string; readonly partition: string; readonly leaseMs: number; readonly now: () => number; readonly takeOver?: LeaseBody | null },
): Promise<Lease | 'busy' | { readonly expired: LeaseBody | null }> {
  const key = leaseKey(o.dataset, o.partition);
  const body: LeaseBody = { holder: o.holder, dataset: o.dataset, partition: o.partition, expiresMs: o.now() + o.leaseMs, outputs: [], inputs: [] };
  if (o.takeOver !== undefined) {
    // Only the lease we saw expired is deleted: a fresh one written meanwhile is left alone.
    const again = await readLease(store, key);
    if (again !== 'absent' && (again === null ? o.takeOver !== null : again.holder !== o.takeOver?.holder || again.expiresMs !== o.takeOver.expiresMs)) return 'busy';
    if (again !== 'absent') await store.delete([key]);
  }
  if (await store.putIfAbsent(key, encodeLease(body))) {
    const back = await readLease(store, key);
    if (back === 'absent' || back === null || back.holder !== o.holder) return 'busy';
    return new Lease(store, key, body, o.leaseMs, o.now);
  }
  const found = await readLease(store, key);
  if (found === 'absent') return 'busy'; // released meanwhile: the next round takes it
  if (found === null || found.expiresMs <= o.now()) return { expired: found };
  return 'busy';
}
