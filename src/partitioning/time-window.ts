/**
 * The event-time window: how far from the moment a record was received its event time may lie
 * and still choose its partition. A span at `startTimeUnixNano` 0 (an unset clock) or in
 * milliseconds instead of nanoseconds would otherwise land in `date=1970-01-01`, where
 * retention, compaction and Athena's partition projection never look (OpenObserve's
 * `ZO_INGEST_ALLOWED_UPTO` and Parseable's 30 days are the same idea).
 *
 * Outside the window a record is refused (OTLP partial success, the default) or, with
 * `outside_window = "receive_time"`, placed by its receive time with its own timestamps kept.
 * A time beyond what a signed nanosecond timestamp holds (2262-04-11) is always refused: it
 * cannot be stored exactly, and is never changed silently.
 */

export type OutsideWindow = 'refuse' | 'receive_time';

export interface EventTimeWindow {
  /** How far before the receive time an event may lie; 0 = no limit. */
  readonly maxPastNs: bigint;
  /** How far after the receive time an event may lie; 0 = no limit. */
  readonly maxFutureNs: bigint;
  readonly outside: OutsideWindow;
}

/** The largest signed 64-bit value: OTLP's fixed64 times beyond it arrive clamped to it. */
export const MAX_TIMESTAMP_NS = 9223372036854775807n;

const iso = (ns: bigint): string => {
  const ms = Number(ns / 1_000_000n);
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : `${ns} ns`;
};

/**
 * The time that places a record (its event time, or its receive time when configured), or a
 * problem naming the value and the window when the record is refused.
 */
export function placeEventTime(timeNs: bigint, receivedNs: bigint, window: EventTimeWindow | undefined): bigint | string {
  if (timeNs >= MAX_TIMESTAMP_NS) return `time ${timeNs === MAX_TIMESTAMP_NS ? '≥ 2^63' : String(timeNs)} ns is beyond 2262-04-11T23:47:16Z, the last instant a nanosecond timestamp holds`;
  if (window === undefined) return timeNs;
  const early = window.maxPastNs > 0n && timeNs < receivedNs - window.maxPastNs;
  const late = window.maxFutureNs > 0n && timeNs > receivedNs + window.maxFutureNs;
  if (!early && !late) return timeNs;
  if (window.outside === 'receive_time') return receivedNs;
  const limit = early ? `more than ${describeNs(window.maxPastNs)} before` : `more than ${describeNs(window.maxFutureNs)} after`;
  return `time ${iso(timeNs)} (${timeNs} ns) is ${limit} it was received (${iso(receivedNs)}); outside [partitioning] max_past_hours / max_future_minutes — a clock unset, or milliseconds sent as nanoseconds?`;
}

function describeNs(ns: bigint): string {
  const minutes = Number(ns / 60_000_000_000n);
  if (minutes % 1440 === 0) return `${minutes / 1440} day(s)`;
  if (minutes % 60 === 0) return `${minutes / 60} hour(s)`;
  return `${minutes} minute(s)`;
}
