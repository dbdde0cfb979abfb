/**
 * Issue 21: compressed OTLP/gRPC calls count against `[buffer] memory_limit_mb`, as OTLP/HTTP
 * gzip bodies do (hostile-gzip.test.ts). grpc-js inflates a message itself, so a compressed call
 * is charged the receive limit until it has inflated (src/receivers/grpc-admission.ts). Without
 * that, twenty concurrent calls that each inflate to 60 MiB were inflated all at once (over a
 * gigabyte with a 128 MiB limit).
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';

const MIB = 1024 * 1024;
const PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/** An empty ExportTraceServiceRequest carrying one unknown field (15) of 60 MiB of zeros. */
function paddedRequest(bytes: number): Buffer {
  const len: number[] = [];
  for (let n = bytes; ; n = Math.floor(n / 128)) {
    if (n < 128) {
      len.push(n);
      break;
    }
    len.push((n % 128) | 0x80);
  }
  return Buffer.concat([Buffer.from([(15 << 3) | 2, ...len]), Buffer.alloc(bytes)]);
}

interface Outcome {
  readonly code: grpc.status;
  readonly retryInfo: boolean;
}

function send(client: grpc.Client, body: Buffer): Promise<Outcome> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(PATH, (b: Buffer) => b, (b: Buffer) => b, body, (err) =>
      resolve(err ? { code: err.code, retryInfo: err.metadata.get('grpc-status-details-bin').length > 0 } : { code: grpc.status.OK, retryInfo: false }),
    ),
  );
}

describe('compressed OTLP/gRPC admission', () => {
  let d: TestDaemon;
  let client: grpc.Client;
  const body = paddedRequest(60 * MIB);

  beforeAll(async () => {
    d = await startTestDaemon('[buffer]\nmemory_limit_mb = 128\n[receivers.grpc]\nmax_recv_msg_size_mib = 64');
    client = new grpc.Client(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure(), {
      'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip,
      'grpc.max_send_message_length': -1,
    });
  });
  afterAll(async () => {
    client?.close();
    await d?.cleanup();
  });

  it('twenty concurrent calls inflating to 60 MiB each stay within the memory bound; the excess is refused retryably', async () => {
    // One alone is fine: a single call may always inflate up to the receive limit.
    expect(await send(client, body)).toEqual({ code: grpc.status.OK, retryInfo: false });

    global.gc?.();
    const baseline = process.memoryUsage().rss;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 2);
    const results = await Promise.all(Array.from({ length: 20 }, () => send(client, body)));
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    const ok = results.filter((r) => r.code === grpc.status.OK).length;
    const refused = results.filter((r) => r.code === grpc.status.UNAVAILABLE);
    const growthMiB = (peak - baseline) / MIB;
    console.log(`gRPC gzip: ${ok} ok, ${refused.length} refused, RSS growth ${growthMiB.toFixed(0)} MiB`);
    expect(ok).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    expect(ok + refused.length).toBe(20);
    for (const r of refused) expect(r.retryInfo).toBe(true);
    // Documented bound (docs/security.md): memory_limit_mb of inflating calls plus the one request
    // being decoded (~3 × 60 MiB). Unbounded, twenty inflated messages alone are 1.2 GB.
    expect(growthMiB).toBeLessThan(128 + 3 * 64 + 150);

    // Once the burst is over the charges are released: a call alone is admitted again.
    expect(await send(client, body)).toEqual({ code: grpc.status.OK, retryInfo: false });
  }, 180_000);

  it('does not charge uncompressed calls: twenty small ones at once are all taken', async () => {
    const plain = new grpc.Client(`127.0.0.1:${d.ports.grpc}`, grpc.credentials.createInsecure());
    try {
      const results = await Promise.all(Array.from({ length: 20 }, () => send(plain, paddedRequest(1024))));
      expect(results.every((r) => r.code === grpc.status.OK)).toBe(true);
    } finally {
      plain.close();
    }
  }, 60_000);
});
