/**
 * A seeded generator of microservice-shaped spans, encoded as OTLP protobuf requests.
 * Same seed, same bytes: runs are comparable.
 */
import { otlpTypes } from '../../src/otlp/proto-root.js';

/** Mulberry32: tiny, fast, deterministic. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SERVICES = ['frontend', 'checkout', 'cart', 'payment', 'shipping', 'email', 'recommendation', 'ad'];
const ROUTES = ['/api/cart', '/api/checkout', '/api/products/{id}', '/api/recommendations', '/health'];
const METHODS = ['GET', 'POST', 'PUT'];

function bytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });
const int = (key: string, v: number) => ({ key, value: { intValue: v } });

/** `count` requests of `spansPerRequest` spans, start times around `baseMs`. */
export function traceRequests(seed: number, count: number, spansPerRequest: number, baseMs = Date.UTC(2024, 0, 1)): Uint8Array[] {
  const r = rng(seed);
  const type = otlpTypes().ExportTraceServiceRequest;
  const out: Uint8Array[] = [];
  for (let q = 0; q < count; q++) {
    const service = SERVICES[q % SERVICES.length]!;
    const spans = [];
    let traceId = bytes(r, 16);
    let parent: Buffer | undefined;
    for (let i = 0; i < spansPerRequest; i++) {
      if (i % 8 === 0) {
        traceId = bytes(r, 16);
        parent = undefined;
      }
      const spanId = bytes(r, 8);
      const startNs = BigInt(baseMs + Math.floor(r() * 3_600_000)) * 1_000_000n + BigInt(Math.floor(r() * 1e6));
      const durNs = BigInt(Math.floor(r() * 50_000_000));
      const isDb = i % 8 > 4;
      const error = r() < 0.03;
      spans.push({
        traceId,
        spanId,
        parentSpanId: parent,
        name: isDb ? 'SELECT orders' : `${METHODS[i % 3]} ${ROUTES[i % ROUTES.length]}`,
        kind: isDb ? 3 : 2,
        startTimeUnixNano: startNs.toString(),
        endTimeUnixNano: (startNs + durNs).toString(),
        attributes: isDb
          ? [str('db.system', 'postgresql'), str('db.statement', 'SELECT * FROM orders WHERE id = $1'), str('db.name', 'shop'), str('server.address', 'db-1'), int('server.port', 5432), str('db.operation', 'SELECT'), str('network.transport', 'tcp'), str('db.user', 'app'), int('db.rows', Math.floor(r() * 100)), str('peer.service', 'postgres')]
          : [str('http.request.method', METHODS[i % 3]!), int('http.response.status_code', error ? 500 : 200), str('url.path', ROUTES[i % ROUTES.length]!), str('server.address', `${service}.svc`), int('server.port', 8080), str('url.scheme', 'http'), str('user_agent.original', 'Mozilla/5.0 (X11; Linux x86_64)'), str('network.protocol.version', '1.1'), str('client.address', `10.0.${Math.floor(r() * 255)}.${Math.floor(r() * 255)}`), int('http.request.body.size', Math.floor(r() * 4096)), str('http.route', ROUTES[i % ROUTES.length]!), str('app.request_id', bytes(r, 8).toString('hex'))],
        events: error ? [{ timeUnixNano: (startNs + 1000n).toString(), name: 'exception', attributes: [str('exception.type', 'Error'), str('exception.message', 'upstream timeout')] }] : [],
        status: { code: error ? 2 : 0, message: error ? 'upstream timeout' : '' },
      });
      parent = spanId;
    }
    const req = {
      resourceSpans: [
        {
          resource: { attributes: [str('service.name', service), str('service.version', '1.4.2'), str('host.name', `node-${q % 4}`), str('k8s.namespace.name', 'shop'), str('k8s.pod.name', `${service}-7d9f-${q % 3}`), str('telemetry.sdk.language', 'nodejs')] },
          scopeSpans: [{ scope: { name: '@opentelemetry/instrumentation-http', version: '0.52.0' }, spans }],
        },
      ],
    };
    out.push(type.encode(type.fromObject(req)).finish());
  }
  return out;
}
