/**
 * RFC 3339 timestamps ↔ nanoseconds since the epoch (UTC), as bigint.
 *
 * Hand-written rather than via `Date`: `Date` keeps milliseconds only and accepts many
 * non-RFC 3339 shapes, while filters need nanoseconds and a strict, documented syntax.
 */

const NS_PER_SECOND = 1_000_000_000n;
const NS_PER_DAY = 86_400n * NS_PER_SECOND;

// A date, optionally followed by a time with 1–9 fractional digits and a mandatory offset.
// A time without an offset is rejected on purpose: its time zone would be a guess.
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2})))?$/;

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function daysInMonth(y: number, m: number): number {
  return m === 2 ? (isLeap(y) ? 29 : 28) : [4, 6, 9, 11].includes(m) ? 30 : 31;
}

/** Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** The inverse of daysFromCivil. */
function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

/**
 * Parses `2024-01-01T00:00:00Z`, `2024-01-01t10:00:00.123456789+02:00`, `2024-01-01 00:00:00Z`
 * or a bare date `2024-01-01` (midnight UTC). Returns undefined when the text is not one of
 * these or names a day or time that does not exist (Feb 30, 24:00, leap second 60).
 */
export function parseTimestampNs(text: string): bigint | undefined {
  const m = RFC3339.exec(text);
  if (m === null) return undefined;
  const num = (i: number): number => Number(m[i] ?? '0');
  const [year, month, day, hour, minute, second] = [num(1), num(2), num(3), num(4), num(5), num(6)];
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[9] !== undefined) {
    const oh = num(10);
    const om = num(11);
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const fraction = BigInt((m[7] ?? '').padEnd(9, '0'));
  const seconds = BigInt(daysFromCivil(year, month, day)) * 86_400n + BigInt(hour * 3600 + minute * 60 + second - offsetMinutes * 60);
  return seconds * NS_PER_SECOND + fraction;
}

const pad = (n: number | bigint, width: number): string => String(n).padStart(width, '0');

/**
 * Formats nanoseconds as `YYYY-MM-DD HH:MM:SS[.fffffffff]` in UTC (DuckDB's TIMESTAMP_NS text
 * form), or undefined outside years 1–9999, which that form cannot spell.
 */
export function formatTimestampNs(ns: bigint): string | undefined {
  // Floor division, so times before 1970 land on the right day.
  let days = ns / NS_PER_DAY;
  if (days * NS_PER_DAY > ns) days -= 1n;
  const inDay = ns - days * NS_PER_DAY;
  const [y, mo, d] = civilFromDays(Number(days));
  if (y < 1 || y > 9999) return undefined;
  const secs = Number(inDay / NS_PER_SECOND);
  const frac = inDay % NS_PER_SECOND;
  const time = `${pad(Math.floor(secs / 3600), 2)}:${pad(Math.floor(secs / 60) % 60, 2)}:${pad(secs % 60, 2)}`;
  return `${pad(y, 4)}-${pad(mo, 2)}-${pad(d, 2)} ${time}${frac === 0n ? '' : `.${pad(frac, 9).replace(/0+$/, '')}`}`;
}

// `YYYY-MM-DDTHH:MM:SS[.fff]Z`, what JSON.stringify(new Date()) and most producers write.
const PLAIN_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z$/;

/**
 * Epoch milliseconds of plain UTC text with at most millisecond precision, without bigints (the
 * hot path of record writes and time partitioning); undefined for anything else, which
 * `parseTimestampNs` then decides. Days and times that do not exist are refused, unlike `Date.parse`.
 */
export function plainUtcMs(text: string): number | undefined {
  const m = PLAIN_UTC.exec(text);
  if (m === null) return undefined;
  const [y, mo, d, h, mi, s] = [+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, +m[6]!];
  if (y < 100 || mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo) || h > 23 || mi > 59 || s > 59) return undefined;
  return Date.UTC(y, mo - 1, d, h, mi, s, m[7] === undefined ? 0 : +m[7].padEnd(3, '0'));
}
