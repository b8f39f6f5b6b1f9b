/**
 * Subsequence fuzzy matching for the command palette. Higher scores are better; consecutive
 * characters and matches at word starts score more, so "gta" ranks "Go to Activity" first.
 */
export interface FuzzyMatch {
  score: number;
  /** Indexes into the candidate of each matched character, for highlighting. */
  positions: number[];
}

export function fuzzyMatch(query: string, candidate: string): FuzzyMatch | null {
  const q = query.trim().toLowerCase();
  if (q === "") return { score: 0, positions: [] };
  const text = candidate.toLowerCase();
  const positions: number[] = [];
  let score = 0;
  let from = 0;
  let previous = -2;
  for (const ch of q) {
    if (ch === " ") continue;
    const at = text.indexOf(ch, from);
    if (at === -1) return null;
    const wordStart = at === 0 || /[\s\-_:/›]/.test(text[at - 1]);
    score += 1;
    if (at === previous + 1) score += 4;
    if (wordStart) score += 6;
    if (at === 0) score += 2;
    positions.push(at);
    previous = at;
    from = at + 1;
  }
  // Prefer shorter candidates and earlier matches among equals.
  score -= positions[0] * 0.05 + text.length * 0.01;
  return { score, positions };
}

export function fuzzyFilter<T>(items: readonly T[], query: string, text: (item: T) => string): Array<{ item: T; match: FuzzyMatch }> {
  const results: Array<{ item: T; match: FuzzyMatch; index: number }> = [];
  items.forEach((item, index) => {
    const match = fuzzyMatch(query, text(item));
    if (match) results.push({ item, match, index });
  });
  if (query.trim() !== "") results.sort((a, b) => b.match.score - a.match.score || a.index - b.index);
  return results.map(({ item, match }) => ({ item, match }));
}
