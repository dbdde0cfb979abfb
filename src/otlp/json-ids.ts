/**
 * OTLP/JSON writes trace and span ids as hex, where protobuf's canonical JSON (and so
 * protobufjs `fromObject`) expects base64. Before `fromObject`, every id field the
 * specification names is turned into bytes here.
 *
 * An id that is not valid hex becomes a 1-byte array: no valid id has that length, so the
 * record is rejected by validation instead of being misread. The text of such an id (and of a
 * hex id of a length no id has) is remembered, so the refusal quotes it: `expected 32 hex
 * digits, got "abc"`.
 */
import { rememberJsonIdText } from './values.js';

export type Signal = 'traces' | 'logs' | 'metrics';

const INVALID_ID = (): Uint8Array => new Uint8Array(1);
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

function hexToBytes(value: unknown): unknown {
  if (typeof value !== 'string') return value; // fromObject reports wrong types itself
  const hex = HEX_RE.test(value);
  const bytes = hex ? Buffer.from(value, 'hex') : INVALID_ID();
  if (!hex || (value.length !== 32 && value.length !== 16 && value.length !== 0)) rememberJsonIdText(bytes, value);
  return bytes;
}

type Json = Record<string, unknown>;

function objects(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter((v): v is Json => typeof v === 'object' && v !== null) : [];
}

function convertIds(obj: Json, fields: readonly string[]): void {
  for (const f of fields) if (f in obj) obj[f] = hexToBytes(obj[f]);
}

function convertExemplars(points: unknown): void {
  for (const p of objects(points)) for (const e of objects(p.exemplars)) convertIds(e, ['traceId', 'spanId']);
}

/** Mutates a parsed OTLP/JSON request in place, converting hex ids to bytes. */
export function convertJsonIds(signal: Signal, request: unknown): void {
  if (typeof request !== 'object' || request === null) return;
  const root = request as Json;
  switch (signal) {
    case 'traces':
      for (const rs of objects(root.resourceSpans))
        for (const ss of objects(rs.scopeSpans))
          for (const span of objects(ss.spans)) {
            convertIds(span, ['traceId', 'spanId', 'parentSpanId']);
            for (const link of objects(span.links)) convertIds(link, ['traceId', 'spanId']);
          }
      return;
    case 'logs':
      for (const rl of objects(root.resourceLogs))
        for (const sl of objects(rl.scopeLogs)) for (const rec of objects(sl.logRecords)) convertIds(rec, ['traceId', 'spanId']);
      return;
    case 'metrics':
      for (const rm of objects(root.resourceMetrics))
        for (const sm of objects(rm.scopeMetrics))
          for (const m of objects(sm.metrics))
            for (const kind of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary']) {
              const body = m[kind];
              if (typeof body === 'object' && body !== null) convertExemplars((body as Json).dataPoints);
            }
      return;
  }
}
