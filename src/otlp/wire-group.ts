/**
 * The grouping messages of every OTLP request, read from protobuf bytes: ResourceSpans /
 * ResourceLogs / ResourceMetrics and their Scope* children all have one shape — field 1 the
 * message they describe (resource, scope), field 2 their repeated children, field 3 a schema
 * URL. The resource and scope themselves are few per request, so protobufjs decodes them (they
 * become pre-encoded contexts shared by every record of the group).
 *
 * Like wire-reader.ts, the plain reads trust bodies the limits walk went through completely;
 * the `…Checked` ones check as they read (a decoder with no walk before it, see WireGuard).
 */
import type { Type } from 'protobufjs';
import { messagePlan, type Plan, type WireGuard } from './limits.js';
import { loadOtlpRoot } from './proto-root.js';
import type { InstrumentationScope, KeyValue, Resource } from './types.js';
import type { WireReader } from './wire-reader.js';

export interface WireGroup {
  /** Range of field 1; head0 = -1 when absent. A later field 1 replaces an earlier one, as in protobufjs. */
  head0: number;
  head1: number;
  url0: number;
  url1: number;
  /** Children's ranges as [start, end] pairs, in wire order. */
  children: number[];
}

/** Reads the group message in bytes [start, end). */
export function readWireGroup(r: WireReader, start: number, end: number): WireGroup {
  const g: WireGroup = { head0: -1, head1: -1, url0: 0, url1: 0, children: [] };
  r.pos = start;
  while (r.pos < end) {
    const tag = r.varint();
    if (tag === 0x0a) {
      g.head1 = r.varint() + r.pos;
      g.head0 = r.pos;
      r.pos = g.head1;
    } else if (tag === 0x12) {
      const e = r.varint() + r.pos;
      g.children.push(r.pos, e);
      r.pos = e;
    } else if (tag === 0x1a) {
      g.url1 = r.varint() + r.pos;
      g.url0 = r.pos;
      r.pos = g.url1;
    } else r.skip(tag & 7);
  }
  return g;
}

/** Field numbers known to an Export*ServiceRequest (1), and to a ResourceX or ScopeX group (1–3), as bits. */
const REQUEST_FIELDS = 0b10;
const GROUP_FIELDS = 0b1110;
/** The depths at which the whole walk reads a resource's and a scope's fields. */
export const RESOURCE_DEPTH = 2;
export const SCOPE_DEPTH = 3;

/**
 * `readWireGroup`, checked (WireReader's `…In` reads): every field 1 — also one a later one
 * replaces — is walked by `guard` along `headPlan` (Resource or InstrumentationScope) at
 * `headDepth`; heads and children are counted as they are met; the children's insides are the
 * caller's to check. The check is a pass of its own before the trusting `readWireGroup` lists
 * the children: a bomb of empty children then stops at the limit without a growing list (with
 * the list, refusing a 1 MiB bomb cost ~2–3× the old walk's CPU; without, the same).
 */
export function readWireGroupChecked(r: WireReader, start: number, end: number, guard: WireGuard, headPlan: Plan, headDepth: number): WireGroup {
  r.pos = start;
  while (r.pos < end) {
    const tag = r.tagIn(end);
    if (tag === 0x0a) {
      const e = r.lengthIn(end);
      guard.add(1);
      guard.message(headPlan, r.pos, e, headDepth);
      r.pos = e;
    } else if (tag === 0x12) {
      const e = r.lengthIn(end);
      guard.add(1);
      r.pos = e;
    } else if (tag === 0x1a) {
      r.pos = r.lengthIn(end);
    } else r.skipIn(tag, end, GROUP_FIELDS);
  }
  return readWireGroup(r, start, end);
}

/**
 * The top-level repeated field 1 of an Export*ServiceRequest (its ResourceX groups) as range
 * pairs, checked and counted (see readWireGroupChecked).
 */
export function readRequestGroupsChecked(r: WireReader, guard: WireGuard): number[] {
  const out: number[] = [];
  const end = r.buf.length;
  r.pos = 0;
  while (r.pos < end) {
    const tag = r.tagIn(end);
    if (tag !== 0x0a) {
      r.skipIn(tag, end, REQUEST_FIELDS);
      continue;
    }
    const e = r.lengthIn(end);
    guard.add(1);
    out.push(r.pos, e);
    r.pos = e;
  }
  return out;
}

let plans: { resource: Plan; scope: Plan } | undefined;

/** The limits walk's plans of Resource and InstrumentationScope. */
export function headPlans(): { resource: Plan; scope: Plan } {
  plans ??= { resource: messagePlan(headTypes().resource), scope: messagePlan(headTypes().scope) };
  return plans;
}

let types: { resource: Type; scope: Type; keyValue: Type } | undefined;

function headTypes(): { resource: Type; scope: Type; keyValue: Type } {
  if (types === undefined) {
    const root = loadOtlpRoot();
    types = {
      resource: root.lookupType('opentelemetry.proto.resource.v1.Resource'),
      scope: root.lookupType('opentelemetry.proto.common.v1.InstrumentationScope'),
      keyValue: root.lookupType('opentelemetry.proto.common.v1.KeyValue'),
    };
  }
  return types;
}

/** KeyValue messages at ranges [starts[i], ends[i]) decoded by protobufjs (metric metadata: rare, few). */
export function decodeKeyValues(r: WireReader, starts: readonly number[], ends: readonly number[], length: number): KeyValue[] {
  const out: KeyValue[] = [];
  for (let i = 0; i < length; i++) out.push(headTypes().keyValue.decode(r.buf.subarray(starts[i]!, ends[i]!)) as unknown as KeyValue);
  return out;
}

/** The Resource of a ResourceX group, or null when absent. */
export function groupResource(r: WireReader, g: WireGroup): Resource | null {
  return g.head0 >= 0 ? (headTypes().resource.decode(r.buf.subarray(g.head0, g.head1)) as unknown as Resource) : null;
}

/** The InstrumentationScope of a ScopeX group, or null when absent. */
export function groupScope(r: WireReader, g: WireGroup): InstrumentationScope | null {
  return g.head0 >= 0 ? (headTypes().scope.decode(r.buf.subarray(g.head0, g.head1)) as unknown as InstrumentationScope) : null;
}
