/**
 * A TCP proxy on loopback for fault tests: passes bytes through, or — per new connection —
 * resets it, delays it, or answers an HTTP 503 (SlowDown) itself, as a failing S3 would; or
 * passes the request on and cuts the connection when the answer comes back (`drop-response`:
 * the store did the work, the client never hears it).
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type FaultMode = 'pass' | 'reset' | 'http503' | 'delay' | 'drop-response';

export interface FaultProxy {
  readonly url: string;
  /**
   * Faults to apply to the next connections, in order; then `pass` again. Open connections are
   * cut first, so a client's pooled keep-alive connection cannot bypass the script.
   */
  script(modes: FaultMode[]): void;
  /** While down, every connection (open or new) is reset: the store is unreachable. */
  setDown(down: boolean): void;
  /** Faults scripted but not yet met by a connection. */
  pending(): number;
  /** How many connections met each mode so far. */
  readonly seen: Record<FaultMode, number>;
  close(): Promise<void>;
}

const SLOW_DOWN =
  'HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: 96\r\nConnection: close\r\n\r\n' +
  '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>\n    ';

export async function startFaultProxy(target: string, delayMs = 300): Promise<FaultProxy> {
  const { hostname, port } = new URL(target);
  let queue: FaultMode[] = [];
  let down = false;
  const seen: Record<FaultMode, number> = { pass: 0, reset: 0, http503: 0, delay: 0, 'drop-response': 0 };
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    const mode = down ? 'reset' : (queue.shift() ?? 'pass');
    seen[mode]++;
    if (mode === 'reset') {
      client.resetAndDestroy();
      return;
    }
    if (mode === 'http503') {
      client.once('data', () => client.end(SLOW_DOWN));
      return;
    }
    const open = () => {
      const upstream = connect(Number(port), hostname);
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
      client.pipe(upstream);
      if (mode === 'drop-response') upstream.once('data', () => client.resetAndDestroy());
      else upstream.pipe(client);
    };
    if (mode === 'delay') setTimeout(open, delayMs);
    else open();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    script: (modes) => {
      for (const s of sockets) s.destroy();
      queue = [...modes];
    },
    seen,
    pending: () => queue.length,
    setDown: (value) => {
      down = value;
      if (value) for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
