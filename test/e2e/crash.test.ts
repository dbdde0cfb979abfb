/**
 * Nothing acknowledged is lost: clients push load, the daemon is killed with SIGKILL mid-load,
 * restarted, and every span whose request got a 200 is in the store exactly once (DuckDB).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from '../helpers/cli.js';
import { duckdbQuery } from '../helpers/duckdb.js';
import { T0_NS, hexId } from '../helpers/otlp.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 's3pq-crash-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function request(client: number, n: number): string {
  const spans = Array.from({ length: 20 }, (_, i) => ({
    traceId: hexId(16, 1 + client * 1_000_000 + n * 100 + i),
    spanId: hexId(8, 1 + client * 1_000_000 + n * 100 + i),
    name: `c${client}-r${n}`,
    kind: 2,
    startTimeUnixNano: (T0_NS + BigInt(n * 60) * 1_000_000_000n).toString(), // spreads over partitions
    endTimeUnixNano: (T0_NS + BigInt(n * 60) * 1_000_000_000n + 5n).toString(),
  }));
  return JSON.stringify({ resourceSpans: [{ resource: { attributes: [] }, scopeSpans: [{ spans }] }] });
}

describe('crash safety', () => {
  for (const fsync of ['always', 'never'] as const) {
    it(`keeps every acknowledged span across SIGKILL (fsync = ${fsync})`, async () => {
      const data = join(dir, fsync);
      const config = join(dir, `${fsync}.toml`);
      // Small buffers: flushes happen all the time, so the kill lands around them too.
      await writeFile(
        config,
        `[receivers.grpc]\nendpoint = "127.0.0.1:0"\n[receivers.http]\nendpoint = "127.0.0.1:0"\n[query]\nenabled = false\n[telemetry]\nenabled = false\n[storage]\nlocal_path = "${data}"\n[buffer]\nmax_rows = 150\nmax_age_seconds = 0.2\n[wal]\nfsync = "${fsync}"\n[partitioning]\nmax_past_hours = 0\n`,
      );
      const first = await startServe(['--config', config]);
      const acked = new Set<string>();
      let inFlight = 0;
      let failed = 0;
      let stop = false;
      const clients = Array.from({ length: 6 }, async (_, c) => {
        for (let n = 0; !stop && n < 400; n++) {
          inFlight++;
          try {
            const res = await fetch(`http://127.0.0.1:${first.ports.http}/v1/traces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: request(c, n) });
            if (res.status === 200) acked.add(`c${c}-r${n}`);
          } catch {
            failed++; // the connection died with the process: not acknowledged
          } finally {
            inFlight--;
          }
        }
      });
      // Kill mid-load once enough has been acknowledged (bounded: a loaded machine is slower).
      const until = Date.now() + 30_000;
      while (acked.size < 40 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      const inFlightAtKill = inFlight;
      first.child.kill('SIGKILL');
      stop = true;
      await Promise.all(clients);
      expect(await first.exited).toBeNull(); // killed, not exited
      expect(acked.size).toBeGreaterThan(20);

      // Restart: the WAL is replayed; SIGTERM then flushes everything.
      const second = await startServe(['--config', config]);
      const replayed = second.lines.find((l) => l.msg === 'write-ahead log replayed');
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);

      const rows = await duckdbQuery(`SELECT name, count(*)::INT AS n FROM read_parquet('${data}/traces/**/*.parquet') GROUP BY name`);
      const counts = new Map(rows.map((r) => [r.name as string, r.n as number]));
      const missing = [...acked].filter((name) => counts.get(name) !== 20);
      expect(missing).toEqual([]);
      // Exactly once: no request's spans appear twice, acknowledged or not.
      expect(rows.filter((r) => (r.n as number) !== 20)).toEqual([]);
      console.log(
        `fsync=${fsync}: ${acked.size} requests acknowledged, ${inFlightAtKill} in flight at the kill, ${failed} failed with it; ` +
          `${counts.size} stored; replay: ${JSON.stringify(replayed ?? null)}`,
      );
    });
  }
});
