/**
 * SQL LIKE, compiled once per pattern: a pattern is split at `%` into segments once, and each
 * row is then matched segment by segment. Matching each segment at its leftmost place is
 * optimal (a later segment only gains room), so a row costs O(text × longest segment) at
 * worst and usually one `indexOf` per segment — a 100 KB `%a%a…` pattern no longer re-splits
 * itself for every row (issue 21). `_` matches exactly one code point.
 */

export type LikeMatcher = (text: string) => boolean;

/** One `%`-free run of the pattern, as code points; `null` stands for `_`. */
type Segment = readonly (string | null)[];

const cache = new Map<string, LikeMatcher>();
/** Patterns compiled and kept (a filter is parsed per query; the same pattern recurs). */
const MAX_CACHED = 256;

/** The matcher for `pattern` (cached). */
export function compileLike(pattern: string): LikeMatcher {
  let m = cache.get(pattern);
  if (m === undefined) {
    m = pattern.includes('_') ? withWildcards(pattern) : plain(pattern);
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(pattern, m);
  }
  return m;
}

/** Only `%`: UTF-16 comparisons are exact, no code-point split needed. */
function plain(pattern: string): LikeMatcher {
  const parts = pattern.split('%');
  if (parts.length === 1) return (text) => text === pattern;
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p !== '');
  const fixed = first.length + last.length;
  return (text) => {
    if (text.length < fixed || !text.startsWith(first) || !text.endsWith(last)) return false;
    const end = text.length - last.length;
    let pos = first.length;
    for (const seg of middle) {
      const i = text.indexOf(seg, pos);
      if (i < 0 || i + seg.length > end) return false;
      pos = i + seg.length;
    }
    return true;
  };
}

function withWildcards(pattern: string): LikeMatcher {
  const segs: Segment[] = pattern.split('%').map((s) => Array.from(s, (c) => (c === '_' ? null : c)));
  const anchoredBoth = segs.length === 1;
  const first = segs[0]!;
  const last = segs[segs.length - 1]!;
  const middle = segs.slice(1, -1).filter((s) => s.length > 0);
  return (text) => {
    const t = Array.from(text);
    if (anchoredBoth) return t.length === first.length && at(t, 0, first);
    if (t.length < first.length + last.length || !at(t, 0, first) || !at(t, t.length - last.length, last)) return false;
    const end = t.length - last.length;
    let pos = first.length;
    for (const seg of middle) {
      let i = pos;
      while (i + seg.length <= end && !at(t, i, seg)) i++;
      if (i + seg.length > end) return false;
      pos = i + seg.length;
    }
    return true;
  };
}

function at(t: readonly string[], i: number, seg: Segment): boolean {
  for (let k = 0; k < seg.length; k++) {
    const c = seg[k];
    if (c !== null && t[i + k] !== c) return false;
  }
  return true;
}
