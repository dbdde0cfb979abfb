/**
 * Issue 20, after the outage: a restart on a write-ahead log many times `memory_limit_mb`
 * replays it within the memory bound (entries are read back one at a time and spill like live
 * requests), and a kill -9 in the middle of the drain loses and duplicates nothing.
 *
 * The failure is real: the radosgw process is stopped (SIGSTOP) while four clients send, so
 * flushes time out and the backlog piles up in the log. DuckDB counts every span over the
 * downloaded objects.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startServe, type ServingProcess } from '../helpers/cli.js';
import {
  OUTAGE_LIMIT_MB as LIMIT_MB,
  OUTAGE_MARGIN_MB as MARGIN_MB,
  RetryingClients as Clients,
  SPANS_PER_REQUEST as SPANS,
  outageFixture,
  OUTAGE_BOUND_MB as BOUND_MB,
  rssMb,
  sampleRss,
} from '../helpers/outage.js';

const fixture = outageFixture('s3pq-outage-replay-');
const { writeConfig, countsIn } = fixture;

async function until(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const flushedRows = (serving: ServingProcess): number => serving.lines.reduce((n, l) => n + (l.msg === 'flushed' ? (l.rows as number) : 0), 0);

describe('after an outage longer than memory', () => {
  it('replays a log of 5x the memory limit after a kill -9 within the memory bound, every span stored once', async () => {
    const config = await writeConfig('replay', 'lake-replay');
    let serving = await startServe(['--config', config]);
    const baseline = await rssMb(serving.child.pid!);
    let current = serving;
    const clients = new Clients(() => current.ports.http!);
    let rss: { peak: () => number; stop: () => void } | undefined;
    let replayPeak = 0;
    try {
      fixture.server().pause();
      await clients.sendBytes('outage', 5 * LIMIT_MB * 1024 * 1024);
      serving.child.kill('SIGKILL');
      await serving.exited;
      fixture.server().resume();
      // Sampled from the restarted process's first moment: the replay runs before it reports started.
      serving = await startServe(['--config', config], { onSpawn: (child) => (rss = sampleRss(child.pid!)) });
      current = serving;
      replayPeak = rss!.peak();
      const replayed = serving.lines.find((l) => l.msg === 'write-ahead log replayed');
      expect(replayed?.requests).toBeGreaterThanOrEqual(clients.acked.length * 0.9);
      // The backlog drains (new traffic keeps being accepted meanwhile).
      await clients.sendBytes('after', 1024 * 1024);
      await until('the backlog to drain', () => flushedRows(serving) >= clients.acked.length * SPANS * 0.9, 180_000);
    } finally {
      fixture.server().resume();
      serving.child.kill('SIGTERM');
    }
    expect(await serving.exited).toBe(0);
    rss!.stop();
    const peak = rss!.peak();
    console.log(`outage-replay: ${clients.acked.length} requests (${(clients.sentBytes / 1048576).toFixed(0)} MiB) acknowledged; restart RSS peak ${peak.toFixed(0)} MiB (${replayPeak.toFixed(0)} MiB by the end of the replay) over an idle ${baseline.toFixed(0)} MiB (limit ${LIMIT_MB} + ${MARGIN_MB})`);
    expect(clients.givenUp).toBe(0);
    // Issue 20's bound, from the restarted process's first moment through the drain: the limit
    // + 150 MiB over the idle daemon.
    expect(peak - baseline).toBeLessThan(BOUND_MB);
    const counts = await countsIn('lake-replay', join(fixture.work(), 'download-replay'));
    expect(clients.acked.filter((name) => counts.get(name) !== SPANS)).toEqual([]);
    expect(counts.size).toBe(clients.acked.length);
  }, 300_000);

  it('stores every acknowledged span exactly once after a kill -9 in the middle of the drain', async () => {
    const config = await writeConfig('drain-kill', 'lake-drain-kill');
    let serving = await startServe(['--config', config]);
    let current = serving;
    const clients = new Clients(() => current.ports.http!);
    try {
      fixture.server().pause();
      await clients.sendBytes('outage', 2 * LIMIT_MB * 1024 * 1024);
      const before = flushedRows(serving);
      fixture.server().resume();
      // In the middle of the drain: some of the backlog is stored, most is not.
      const backlog = clients.acked.length * SPANS;
      await until('the drain to start', () => flushedRows(serving) - before >= 2 * SPANS, 120_000);
      const drained = flushedRows(serving) - before;
      serving.child.kill('SIGKILL');
      await serving.exited;
      expect(drained).toBeLessThan(backlog);
      serving = await startServe(['--config', config]);
      current = serving;
      await clients.sendBytes('after', 1024 * 1024);
    } finally {
      fixture.server().resume();
      serving.child.kill('SIGTERM');
    }
    expect(await serving.exited).toBe(0);
    expect(clients.givenUp).toBe(0);
    const counts = await countsIn('lake-drain-kill', join(fixture.work(), 'download-drain-kill'));
    expect(clients.acked.filter((name) => counts.get(name) !== SPANS)).toEqual([]);
    expect(counts.size).toBe(clients.acked.length);
  }, 300_000);
});
