/**
 * The fuzzer's parts: a seeded PRNG, valid seed requests for every signal (OTLP/JSON and
 * protobuf), and mutators for protobuf bytes, JSON text, gzip and HTTP framing. Everything is
 * a pure function of the PRNG, so a run is reproduced by its seed.
 */
import { gzipSync } from 'node:zlib';
import type { Signal } from '../../src/otlp/json-ids.js';
import { T0_NS, hexId, jsonSpan, jsonTraceRequest } from '../helpers/otlp.js';
import { requestWithOneBad, toProtobuf } from '../helpers/otlp-requests.js';

// ---- PRNG ----------------------------------------------------------------------------

/** mulberry32: tiny, fast, good enough to drive a fuzzer; same seed → same sequence. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = Math.floor(this.next() * 256);
    return out;
  }
}

// ---- seeds -----------------------------------------------------------------------------

const kv = (key: string, value: Record<string, unknown>) => ({ key, value });
const RICH_ATTRIBUTES = [
  kv('http.request.method', { stringValue: 'GET' }),
  kv('http.response.status_code', { intValue: '200' }),
  kv('app.double', { doubleValue: 2.5 }),
  kv('app.bool', { boolValue: true }),
  kv('app.bytes', { bytesValue: 'AAEC/w==' }),
  kv('app.list', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '-7' }, { arrayValue: { values: [{ boolValue: false }] } }] } }),
  kv('app.map', { kvlistValue: { values: [kv('inner', { kvlistValue: { values: [kv('deep', { stringValue: 'ünï' })] } })] } }),
];

function richTraces(tag: string): Record<string, unknown> {
  const span = {
    ...jsonSpan({ name: `${tag}-root`, attributes: RICH_ATTRIBUTES }),
    traceState: 'k=v',
    flags: 257,
    events: [{ timeUnixNano: (T0_NS + 5n).toString(), name: 'ev', attributes: RICH_ATTRIBUTES.slice(0, 2), droppedAttributesCount: 1 }],
    links: [{ traceId: hexId(16), spanId: hexId(8), traceState: 'a=b', attributes: RICH_ATTRIBUTES.slice(2, 4), flags: 1 }],
    status: { code: 2, message: 'boom' },
    droppedEventsCount: 2,
  };
  return jsonTraceRequest([span, jsonSpan({ name: `${tag}-child`, parentSpanId: hexId(8) })], tag);
}

function richLogs(tag: string): Record<string, unknown> {
  const base = requestWithOneBad('logs', tag) as { resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[] };
  base.resourceLogs[0]!.scopeLogs[0]!.logRecords.push({
    timeUnixNano: T0_NS.toString(),
    observedTimeUnixNano: (T0_NS + 1n).toString(),
    severityNumber: 17,
    severityText: 'ERROR',
    body: { kvlistValue: { values: RICH_ATTRIBUTES } },
    attributes: RICH_ATTRIBUTES,
    traceId: hexId(16),
    spanId: hexId(8),
    flags: 1,
    eventName: 'app.event',
  });
  return base;
}

function richMetrics(tag: string): Record<string, unknown> {
  const base = requestWithOneBad('metrics', tag) as { resourceMetrics: { scopeMetrics: { metrics: unknown[] }[] }[] };
  const t = T0_NS.toString();
  base.resourceMetrics[0]!.scopeMetrics[0]!.metrics.push(
    { name: `${tag}.sum`, unit: 'By', sum: { aggregationTemporality: 2, isMonotonic: true, dataPoints: [{ timeUnixNano: t, startTimeUnixNano: t, asDouble: 1.5, attributes: RICH_ATTRIBUTES.slice(0, 3) }] } },
    {
      name: `${tag}.hist`,
      histogram: { aggregationTemporality: 1, dataPoints: [{ timeUnixNano: t, count: '3', sum: 6, min: 1, max: 3, bucketCounts: ['1', '2'], explicitBounds: [2] }] },
    },
    {
      name: `${tag}.exp`,
      exponentialHistogram: {
        aggregationTemporality: 2,
        dataPoints: [{ timeUnixNano: t, count: '2', scale: 1, zeroCount: '1', positive: { offset: -1, bucketCounts: ['1'] }, negative: { offset: 0, bucketCounts: [] } }],
      },
    },
    { name: `${tag}.summary`, summary: { dataPoints: [{ timeUnixNano: t, count: '1', sum: 1, quantileValues: [{ quantile: 0.5, value: 1 }] }] } },
  );
  return base;
}

export interface Seed {
  readonly signal: Signal;
  readonly json: Record<string, unknown>;
  readonly protobuf: Uint8Array;
}

export function seeds(): Seed[] {
  const out: Seed[] = [];
  const add = (signal: Signal, json: Record<string, unknown>) => out.push({ signal, json, protobuf: toProtobuf(signal, json) });
  add('traces', richTraces('fuzz-traces'));
  add('traces', requestWithOneBad('traces', 'fuzz-traces-partial'));
  add('logs', richLogs('fuzz-logs'));
  add('metrics', richMetrics('fuzz-metrics'));
  return out;
}

// ---- protobuf building blocks ----------------------------------------------------------

export function varint(n: number | bigint): Uint8Array {
  let v = BigInt(n);
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);
/** A length-delimited field. */
export const ld = (field: number, body: Uint8Array): Uint8Array => concat(varint((field << 3) | 2), varint(body.length), body);

const deepCache = new Map<number, Uint8Array>();

/**
 * ExportTraceServiceRequest{resource_spans{resource{attributes{key, value: AnyValue nested
 * `depth` arrays}}}}. Built in one pass (lengths first, then headers outside-in): wrapping a
 * buffer level by level would copy it `depth` times.
 */
export function deepAnyValueProtobuf(depth: number): Uint8Array {
  const cached = deepCache.get(depth);
  if (cached) return cached;
  const leaf = ld(1, new TextEncoder().encode('leaf')); // AnyValue.string_value
  // Tags from the inside out: ArrayValue.values (field 1), then AnyValue.array_value (field 5), `depth` times.
  const tags: number[] = [];
  for (let i = 0; i < depth; i++) tags.push(0x0a, 0x2a);
  const lengths: number[] = [];
  let size = leaf.length;
  for (let i = 0; i < tags.length; i++) {
    lengths.push(size);
    size += 1 + varint(size).length;
  }
  const parts: Uint8Array[] = [];
  for (let i = tags.length - 1; i >= 0; i--) parts.push(Uint8Array.of(tags[i]!), varint(lengths[i]!));
  parts.push(leaf);
  const value = Buffer.concat(parts);
  const keyValue = concat(ld(1, new TextEncoder().encode('deep')), ld(2, value));
  const out = ld(1, ld(1, ld(1, keyValue))); // request.resource_spans.resource.attributes
  deepCache.set(depth, out);
  return out;
}

const bombCache = new Map<number, Uint8Array>();

/** `count` empty messages in the innermost repeated field of a request (spans / log records / metrics). */
export function repeatedBomb(signal: Signal, count: number): Uint8Array {
  void signal; // the three signals share these field numbers
  const cached = bombCache.get(count);
  if (cached) return cached;
  const many = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) many[i * 2] = 0x12; // field 2 (spans / log_records / metrics), length 0
  // request.resource_X (1) { ResourceX.scope_X (2) { ScopeX.items (2) × count } }
  const out = ld(1, ld(2, many));
  bombCache.set(count, out);
  return out;
}

// ---- protobuf mutators -----------------------------------------------------------------

export type ProtoMutation =
  | 'flip'
  | 'truncate'
  | 'insert'
  | 'delete'
  | 'wire-type'
  | 'huge-length'
  | 'duplicate'
  | 'repeat-bomb'
  | 'deep-nesting'
  | 'invalid-utf8'
  | 'giant-varint'
  | 'random'
  | 'empty';

export const PROTO_MUTATIONS: readonly ProtoMutation[] = [
  'flip', 'flip', 'flip', 'truncate', 'truncate', 'insert', 'delete', 'wire-type', 'wire-type', 'huge-length', 'huge-length',
  'duplicate', 'repeat-bomb', 'deep-nesting', 'invalid-utf8', 'invalid-utf8', 'giant-varint', 'random', 'empty',
];

const INVALID_UTF8: readonly number[][] = [[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xc0, 0xaf], [0xf8, 0x88, 0x80, 0x80, 0x80], [0xe2, 0x82]];

/** Replaces bytes inside ASCII runs (names, keys, values) with invalid UTF-8 sequences. */
function spoilStrings(rng: Rng, body: Uint8Array, times: number): Uint8Array {
  const out = Buffer.from(body);
  const letters: number[] = [];
  for (let i = 0; i < out.length; i++) if (out[i]! >= 0x61 && out[i]! <= 0x7a) letters.push(i);
  if (letters.length === 0) return out;
  for (let k = 0; k < times; k++) {
    const seq = rng.pick(INVALID_UTF8);
    const at = rng.pick(letters);
    // Same length when possible, so lengths around it stay right and the decoder reaches the string.
    for (let j = 0; j < seq.length && at + j < out.length; j++) out[at + j] = seq[j]!;
  }
  return out;
}

export function mutateProtobuf(rng: Rng, seed: Seed, m: ProtoMutation): Uint8Array {
  const b = seed.protobuf;
  switch (m) {
    case 'flip': {
      const out = Buffer.from(b);
      for (let k = rng.int(1, 8); k > 0; k--) out[rng.int(0, out.length - 1)]! ^= 1 << rng.int(0, 7);
      return out;
    }
    case 'truncate':
      return b.subarray(0, rng.int(0, b.length - 1));
    case 'insert': {
      const at = rng.int(0, b.length);
      return concat(b.subarray(0, at), rng.bytes(rng.int(1, 16)), b.subarray(at));
    }
    case 'delete': {
      const at = rng.int(0, b.length - 1);
      return concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + rng.int(1, 32))));
    }
    case 'wire-type': {
      const out = Buffer.from(b);
      for (let k = rng.int(1, 3); k > 0; k--) {
        const at = rng.int(0, out.length - 1);
        out[at] = (out[at]! & ~7) | rng.int(0, 7);
      }
      return out;
    }
    case 'huge-length': {
      const lengths = [0xffffffffn, 0x7fffffffn, 0xffffffffffffffffn, 1n << 62n, BigInt(b.length + 1), 0x10000000n];
      const field = rng.pick([1, 2, 3, 15, 100, 536870911]);
      const injected = concat(varint((BigInt(field) << 3n) | 2n), varint(rng.pick(lengths)), rng.bytes(rng.int(0, 8)));
      const at = rng.chance(0.5) ? 0 : rng.int(0, b.length);
      return concat(b.subarray(0, at), injected, b.subarray(at));
    }
    case 'duplicate': {
      if (rng.chance(0.5)) return concat(b, b, rng.chance(0.5) ? b : new Uint8Array(0)); // merged: repeated fields twice
      const at = rng.int(0, b.length - 1);
      const len = rng.int(1, Math.min(64, b.length - at));
      return concat(b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len));
    }
    case 'repeat-bomb':
      // Up to just under the fuzz daemon's 1 MiB limit (520 000 empty spans decode to ~80 MB).
      return repeatedBomb(seed.signal, rng.pick([10_000, 60_000, 150_000, 400_000, 520_000]));
    case 'deep-nesting':
      return deepAnyValueProtobuf(rng.pick([30, 46, 47, 48, 60, 99, 100, 101, 500, 5_000, 50_000]));
    case 'invalid-utf8':
      return spoilStrings(rng, b, rng.int(1, 4));
    case 'giant-varint': {
      const huge = [Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), Uint8Array.from(new Array(11).fill(0xff).concat([0x01])), Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00])];
      const tag = varint((rng.pick([1, 2, 4, 7, 99]) << 3) | 0);
      return concat(tag, rng.pick(huge), b);
    }
    case 'random':
      return rng.bytes(rng.int(1, 4096));
    case 'empty':
      return new Uint8Array(0);
  }
}

// ---- JSON mutators ---------------------------------------------------------------------

export type JsonMutation =
  | 'flip-chars'
  | 'truncate'
  | 'deep-nesting'
  | 'giant-numbers'
  | 'wrong-type'
  | 'duplicate-keys'
  | 'bad-ids'
  | 'enums'
  | 'invalid-utf8'
  | 'count-bomb'
  | 'noise'
  | 'escapes';

export const JSON_MUTATIONS: readonly JsonMutation[] = [
  'flip-chars', 'flip-chars', 'truncate', 'truncate', 'deep-nesting', 'deep-nesting', 'giant-numbers', 'giant-numbers', 'wrong-type',
  'wrong-type', 'duplicate-keys', 'bad-ids', 'enums', 'invalid-utf8', 'count-bomb', 'noise', 'escapes',
];

type Json = Record<string, unknown>;
const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Every (parent, key) in a JSON tree, for picking a random place to change. */
function slots(root: unknown): { parent: Json | unknown[]; key: string | number; value: unknown }[] {
  const out: { parent: Json | unknown[]; key: string | number; value: unknown }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach((v, i) => (out.push({ parent: node, key: i, value: v }), walk(v)));
    else if (typeof node === 'object' && node !== null) for (const [k, v] of Object.entries(node)) out.push({ parent: node as Json, key: k, value: v }), walk(v);
  };
  walk(root);
  return out;
}

const set = (s: { parent: Json | unknown[]; key: string | number }, v: unknown): void => {
  (s.parent as Record<string | number, unknown>)[s.key] = v;
};

const GIANT = ['1e400', '-1e400', '1e308', '123456789012345678901234567890', '-0', '9007199254740993', '"18446744073709551616"', '"-9223372036854775809"', '"1.5"', '"abc"', '""', '"0x1f"', '"1e3"', '" 12"', '4.9e-324'];
const WRONG: readonly unknown[] = [{}, [], 's', 1, -1, true, null, [1, 2], { x: 1 }, [[[]]], 1.5];
const BAD_IDS = ['zz', '', 'a'.repeat(33), 'AB'.repeat(16), 'g'.repeat(32), '00'.repeat(16), 'AAAAAAAAAAAAAAAAAAAAAA==', '0'.repeat(31), 'ﬀ'.repeat(16), 'a'.repeat(100_000)];

/** `{"arrayValue":{"values":[ … ]}}` nested `depth` times, as text (no recursion in the builder). */
function nestedAnyValueText(depth: number): string {
  return '{"arrayValue":{"values":['.repeat(depth) + '{"stringValue":"leaf"}' + ']}}'.repeat(depth);
}

export function mutateJson(rng: Rng, seed: Seed, m: JsonMutation): Uint8Array {
  const text = JSON.stringify(seed.json);
  const enc = (s: string): Uint8Array => Buffer.from(s, 'utf8');
  switch (m) {
    case 'flip-chars': {
      const chars = text.split('');
      for (let k = rng.int(1, 6); k > 0; k--) chars[rng.int(0, chars.length - 1)] = rng.pick(['{', '}', '[', ']', '"', ',', ':', '\\', '0', 'e', '-', ' ', 'x', '\u0000']);
      return enc(chars.join(''));
    }
    case 'truncate':
      return enc(text.slice(0, rng.int(0, text.length - 1)));
    case 'deep-nesting': {
      const depth = rng.pick([30, 90, 99, 100, 101, 1_000, 10_000, 100_000]);
      const root = clone(seed.json);
      const values = slots(root).filter((s) => s.key === 'value' && typeof s.value === 'object');
      const kind = rng.int(0, 2);
      const deep =
        kind === 0
          ? nestedAnyValueText(Math.min(depth, 30_000))
          : kind === 1
            ? '['.repeat(depth) + ']'.repeat(depth) // raw arrays where an AnyValue belongs
            : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth); // unknown-field objects
      if (values.length === 0) return enc(deep);
      set(rng.pick(values), '__DEEP__');
      return enc(JSON.stringify(root).replace('"__DEEP__"', deep));
    }
    case 'giant-numbers': {
      const root = clone(seed.json);
      const nums = slots(root).filter((s) => typeof s.value === 'number' || (typeof s.value === 'string' && /^-?\d+$/.test(s.value)));
      const chosen: string[] = [];
      for (let k = rng.int(1, 3); k > 0 && nums.length > 0; k--) {
        set(rng.pick(nums), `__GIANT${chosen.length}__`);
        chosen.push(rng.pick(GIANT));
      }
      let out = JSON.stringify(root);
      chosen.forEach((g, i) => (out = out.replace(`"__GIANT${i}__"`, g)));
      return enc(out);
    }
    case 'wrong-type': {
      const root = clone(seed.json);
      const all = slots(root);
      for (let k = rng.int(1, 3); k > 0; k--) set(rng.pick(all), clone(rng.pick(WRONG)));
      return enc(JSON.stringify(root));
    }
    case 'duplicate-keys': {
      // JSON.parse keeps the last; a second copy of a key with another value must not confuse anything.
      const root = clone(seed.json);
      const objs = slots(root).filter((s) => typeof s.value === 'object' && s.value !== null && !Array.isArray(s.value));
      if (objs.length === 0) return enc(text);
      const target = rng.pick(objs).value as Json;
      const keys = Object.keys(target);
      if (keys.length === 0) return enc(text);
      const key = rng.pick(keys);
      target['__DUP__'] = 1;
      const dupValue = JSON.stringify(rng.chance(0.5) ? target[key] : rng.pick(WRONG));
      return enc(JSON.stringify(root).replace('"__DUP__":1', `${JSON.stringify(key)}:${dupValue}`));
    }
    case 'bad-ids': {
      const root = clone(seed.json);
      const ids = slots(root).filter((s) => typeof s.key === 'string' && /Id$/.test(s.key));
      for (let k = rng.int(1, 3); k > 0 && ids.length > 0; k--) set(rng.pick(ids), rng.pick(BAD_IDS));
      return enc(JSON.stringify(root));
    }
    case 'enums': {
      const root = clone(seed.json);
      const enums = slots(root).filter((s) => ['kind', 'code', 'severityNumber', 'aggregationTemporality', 'flags', 'scale'].includes(String(s.key)));
      const values = [99, -1, 2 ** 31, 2 ** 32 + 1, 'SPAN_KIND_SERVER', 'NOPE', 1.5, '7', null];
      for (let k = rng.int(1, 3); k > 0 && enums.length > 0; k--) set(rng.pick(enums), rng.pick(values));
      return enc(JSON.stringify(root));
    }
    case 'invalid-utf8': {
      const raw = Buffer.from(text, 'utf8');
      return spoilStrings(rng, raw, rng.int(1, 4));
    }
    case 'count-bomb': {
      const item = rng.pick(['{}', '[]', '{"a":1}', 'null', '0']);
      // Up to ~1 MB, just under the fuzz daemon's limit.
      const n = Math.floor(rng.pick([30_000, 200_000, 600_000, 1_000_000]) / (item.length + 1));
      const field = { traces: ['resourceSpans', 'scopeSpans', 'spans'], logs: ['resourceLogs', 'scopeLogs', 'logRecords'], metrics: ['resourceMetrics', 'scopeMetrics', 'metrics'] }[seed.signal];
      return enc(`{"${field[0]}":[{"${field[1]}":[{"${field[2]}":[${new Array(n).fill(item).join(',')}]}]}]}`);
    }
    case 'noise': {
      const variants = [
        '\ufeff' + text,
        '   \n\t' + text + '\n',
        text + 'garbage',
        text + text,
        '[' + text + ']',
        JSON.stringify(text),
        '42',
        'null',
        '',
        text.replace(/:/g, ' : '),
        text.replace(/"([a-zA-Z]+)":/g, (_, k: string) => `"${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)}":`), // snake_case keys
      ];
      return enc(rng.pick(variants));
    }
    case 'escapes': {
      const escapes = ['\\ud800', '\\udfff', '\\u0000', '\\uffff', '\\"\\\\', '\\x41', '\\u12', '\\'];
      return enc(text.replace(/"(fuzz[^"]*|op|k|leaf|a)"/, (_, s: string) => `"${s}${rng.pick(escapes)}"`));
    }
  }
}

// ---- gzip ------------------------------------------------------------------------------

export type GzipMode = 'plain' | 'gzip' | 'corrupt-gzip' | 'bomb' | 'lying-header';

let bombs: Uint8Array[] | undefined;
/** gzip bombs: 64 MiB and 200 MiB of zeros, and a protobuf-looking prefix then zeros (~tens of KiB each). */
export function gzipBombs(): Uint8Array[] {
  bombs ??= [
    gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }),
    gzipSync(Buffer.alloc(200 * 1024 * 1024), { level: 9 }),
    gzipSync(Buffer.concat([Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x1f]), Buffer.alloc(32 * 1024 * 1024, 0x0a)]), { level: 9 }),
  ];
  return bombs;
}

export function applyGzip(rng: Rng, body: Uint8Array, mode: GzipMode): Uint8Array {
  switch (mode) {
    case 'plain':
    case 'lying-header':
      return body;
    case 'gzip':
      return gzipSync(body);
    case 'corrupt-gzip': {
      const z = Buffer.from(gzipSync(body));
      if (rng.chance(0.5)) return z.subarray(0, rng.int(0, z.length - 1));
      for (let k = rng.int(1, 4); k > 0; k--) z[rng.int(0, z.length - 1)]! ^= 0xff;
      return z;
    }
    case 'bomb':
      return rng.pick(gzipBombs());
  }
}
