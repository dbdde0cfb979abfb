/** The decode-time guards against hostile input (src/otlp/limits.ts, src/otlp/json-check.ts), at their edges. */
import { describe, expect, it } from 'vitest';
import { decodeRequest } from '../../src/otlp/decode.js';
import { FREE_MESSAGES, MIN_BYTES_PER_MESSAGE, checkJsonCost, checkProtobufCost, maxMessagesFor } from '../../src/otlp/limits.js';
import { otlpTypes } from '../../src/otlp/proto-root.js';
import { S3ParquetError } from '../../src/errors.js';
import { jsonSpan, jsonTraceRequest, protobufTraceRequest } from '../helpers/otlp.js';
import { deepAnyValueProtobuf, repeatedBomb } from '../fuzz/mutate.js';

const traceType = () => otlpTypes().ExportTraceServiceRequest;

function refusal(fn: () => unknown): S3ParquetError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(S3ParquetError);
    return err as S3ParquetError;
  }
  throw new Error('expected a refusal');
}

describe('message count limit', () => {
  it('counts every nested message, and only messages', () => {
    const attrs = [{ key: 'k', value: { stringValue: 'v' } }];
    // request → ResourceSpans → Resource + KeyValue + AnyValue, ScopeSpans → Scope, 2 × (Span → KeyValue → AnyValue, Status)
    const body = protobufTraceRequest(jsonTraceRequest([jsonSpan({ attributes: attrs }), jsonSpan({ attributes: attrs })]));
    expect(checkProtobufCost(traceType(), body)).toBe(1 + 3 + 2 + 2 * 4);
    expect(checkJsonCost(Buffer.from('{"a":"{[[{","b":[{},[]],"c":"\\"{"}'))).toBe(4); // braces inside strings do not count
  });

  it('allows FREE_MESSAGES whatever the size, then one per MIN_BYTES_PER_MESSAGE bytes', () => {
    expect(maxMessagesFor(0)).toBe(FREE_MESSAGES);
    const justUnder = repeatedBomb('traces', FREE_MESSAGES - 2); // + ResourceSpans + ScopeSpans
    expect(checkProtobufCost(traceType(), justUnder)).toBe(FREE_MESSAGES);
    const over = repeatedBomb('traces', 200_000); // 400 008 bytes allow 50 000 + 50 001 messages
    expect(refusal(() => decodeRequest('traces', 'protobuf', over)).message).toMatch(/more than 100001 messages in 400008 bytes; at most 50000 plus one per 8 bytes/);
    expect(MIN_BYTES_PER_MESSAGE).toBe(8);
  });

  it('refuses the JSON equivalent before parsing it, and deep JSON nesting', () => {
    const many = Buffer.from(`{"resourceSpans":[{"scopeSpans":[{"spans":[${new Array(120_000).fill('{}').join(',')}]}]}]}`);
    expect(refusal(() => decodeRequest('traces', 'json', many)).code).toBe('INVALID_ARGUMENT');
    expect(() => checkJsonCost(Buffer.from('['.repeat(300) + ']'.repeat(300)))).not.toThrow();
    expect(refusal(() => checkJsonCost(Buffer.from('['.repeat(301) + ']'.repeat(301)))).message).toBe('malformed JSON: nested deeper than 300 levels');
  });

  it('leaves malformed protobuf to the decoder, and deep nesting is a 400 from it', () => {
    expect(checkProtobufCost(traceType(), Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toBe(0);
    expect(refusal(() => decodeRequest('traces', 'protobuf', deepAnyValueProtobuf(60))).message).toMatch(/maximum nesting depth exceeded/);
    expect(() => decodeRequest('traces', 'protobuf', deepAnyValueProtobuf(40))).not.toThrow();
  });
});

describe('OTLP/JSON scalar checks', () => {
  const withSpan = (patch: Record<string, unknown>) => Buffer.from(JSON.stringify(jsonTraceRequest([{ ...jsonSpan(), ...patch }])));

  it.each([
    [{ startTimeUnixNano: 'abc' }, /spans\[0\]\.startTimeUnixNano: expected an unsigned 64-bit integer .*got "abc"/],
    [{ startTimeUnixNano: '18446744073709551616' }, /startTimeUnixNano: expected an unsigned 64-bit integer/],
    [{ endTimeUnixNano: -1 }, /endTimeUnixNano: expected an unsigned 64-bit integer/],
    [{ kind: 1.5 }, /kind: expected an enum number \(a 32-bit integer\) or name, got 1.5/],
    [{ kind: 'SERVER' }, /kind: expected one of SPAN_KIND_UNSPECIFIED, .* or its number, got "SERVER"/],
    [{ droppedAttributesCount: 2 ** 32 }, /droppedAttributesCount: expected an unsigned 32-bit integer/],
    [{ attributes: [{ key: 'd', value: { doubleValue: 'abc' } }] }, /attributes\[0\]\.value\.doubleValue: expected a number/],
    [{ attributes: [{ key: 'b', value: { boolValue: 'true' } }] }, /boolValue: expected true or false/],
    [{ attributes: [{ key: 'x', value: { bytesValue: '!!' } }] }, /bytesValue: expected base64 bytes/],
    [{ attributes: { key: 'k' } }, /attributes: expected an array, got an object/],
    [{ status: 'OK' }, /status: expected an object, got "OK"/],
  ])('refuses %j', (patch, message) => {
    const err = refusal(() => decodeRequest('traces', 'json', withSpan(patch)));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(message);
  });

  it.each([
    { startTimeUnixNano: 1704067500000000000 },
    { startTimeUnixNano: '1704067500000000000' },
    { kind: 'SPAN_KIND_CLIENT' },
    { kind: 99 }, // unknown enum numbers are kept, as in protobuf
    { attributes: [{ key: 'd', value: { doubleValue: 'NaN' } }, { key: 'e', value: { doubleValue: '-Infinity' } }, { key: 'f', value: { doubleValue: '2.5' } }] },
    { attributes: [{ key: 'i', value: { intValue: '-9223372036854775808' } }, { key: 'b', value: { bytesValue: 'AAEC/w==' } }] },
    { status: null, unknownField: { anything: [1, 'x'] } },
  ])('accepts %j', (patch) => {
    expect(() => decodeRequest('traces', 'json', withSpan(patch))).not.toThrow();
  });
});
