/**
 * Grafana Tempo's published messages (proto/tempopb/tempo.proto, vendored), loaded with
 * protobufjs the way a client decodes Tempo answers.
 */
import path from 'node:path';
import protobuf from 'protobufjs';
import { PROTO_DIR } from '../../src/otlp/proto-root.js';

let root: protobuf.Root | undefined;

export function tempopb(name: string): protobuf.Type {
  if (!root) {
    root = new protobuf.Root();
    root.resolvePath = (_origin: string, target: string): string => (path.isAbsolute(target) ? target : path.join(PROTO_DIR, target));
    root.loadSync(['tempopb/tempo.proto']);
    root.resolveAll();
  }
  return root.lookupType(`tempopb.${name}`);
}

/** Decodes protobuf bytes to a plain object: ids as hex, 64-bit numbers as decimal text, enums as names. */
export function decodeTempo(name: string, bytes: Uint8Array): Record<string, unknown> {
  const t = tempopb(name);
  const obj = t.toObject(t.decode(bytes), { longs: String, enums: String, bytes: String, defaults: false }) as Record<string, unknown>;
  return hexIds(obj) as Record<string, unknown>;
}

/** protobufjs renders bytes as base64; OTLP ids read as hex. */
function hexIds(v: unknown, key = ''): unknown {
  if (Array.isArray(v)) return v.map((x) => hexIds(x, key));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, hexIds(x, k)]));
  if (typeof v === 'string' && /^(traceId|spanId|parentSpanId)$/.test(key)) return Buffer.from(v, 'base64').toString('hex');
  return v;
}

/**
 * A JSON answer checked against a tempopb message the way proto3 JSON parsing is: every key
 * must be a field of the message (recursively), and protobufjs must accept the values.
 */
export function checkTempoJson(name: string, json: unknown): string[] {
  const problems: string[] = [];
  const walk = (type: protobuf.Type, v: unknown, at: string): void => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) {
      problems.push(`${at}: expected an object for ${type.fullName}`);
      return;
    }
    for (const [k, x] of Object.entries(v)) {
      const field = type.fields[k];
      if (!field) {
        problems.push(`${at}.${k}: not a field of ${type.fullName}`);
        continue;
      }
      field.resolve();
      if (field.resolvedType instanceof protobuf.Type) {
        const items = field.repeated ? (Array.isArray(x) ? x : (problems.push(`${at}.${k}: expected an array`), [])) : [x];
        items.forEach((item, i) => walk(field.resolvedType as protobuf.Type, item, `${at}.${k}${field.repeated ? `[${i}]` : ''}`));
      }
    }
  };
  const t = tempopb(name);
  walk(t, json, name);
  return problems;
}
