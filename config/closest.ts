/** "Did you mean …?": the candidates nearest to a mistyped word. */

/** Optimal string alignment distance: edits, with a swap of two neighbours counting as one ("hlep"). */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = rows[i]!;
      const above = rows[i - 1]!;
      row[j] = Math.min(above[j]! + 1, row[j - 1]! + 1, above[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j]!, rows[i - 2]![j - 2]! + 1);
      }
    }
  }
  return rows[a.length]![b.length]!;
}

/**
 * Candidates within a typo's reach of `word` (about one edit per three letters, at least one),
 * nearest first; a candidate that starts with the word ("fa" for "faq") counts as near too.
 */
export function closestMatches(word: string, candidates: string[]): string[] {
  const needle = word.toLowerCase();
  if (needle.length === 0) return [];
  const reach = Math.max(1, Math.floor(needle.length / 3));
  return candidates
    .map((candidate) => {
      const lower = candidate.toLowerCase();
      const distance = lower.startsWith(needle) ? 0 : editDistance(needle, lower);
      return { candidate, distance };
    })
    .filter(({ distance }) => distance <= reach)
    .sort((x, y) => x.distance - y.distance)
    .map(({ candidate }) => candidate);
}
