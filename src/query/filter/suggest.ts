/**
 * The unknown-column error, with a "did you mean" for typos: a filter usually comes from a
 * person typing column names, and the catalog is too long to list whole in a message.
 */
import { FilterError, type ColumnCatalog } from './types.js';

/** `unknown column "x" at position N (did you mean "y"? known: a, b, …)`. */
export function unknownColumn(name: string, pos: number, catalog: ColumnCatalog): FilterError {
  const names = [...catalog.keys()];
  const suggestion = names
    .map((n) => ({ n, d: editDistance(name.toLowerCase(), n.toLowerCase()) }))
    .filter((c) => c.d <= 2)
    .sort((a, b) => a.d - b.d)[0];
  const known = names.slice(0, 8).join(', ') + (names.length > 8 ? ', …' : '');
  const hint = suggestion === undefined ? '' : `did you mean "${suggestion.n}"? `;
  return new FilterError(`filter: unknown column "${name}" at position ${pos} (${hint}known: ${known})`, pos);
}

/** Levenshtein distance; names are short, so the O(n·m) table is fine. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = cur;
  }
  return prev[b.length]!;
}
