/**
 * Word error rate the way speech papers report it: the minimum number of word substitutions,
 * deletions and insertions turning the reference into the hypothesis (Levenshtein on words), divided
 * by the number of reference words. Both texts are normalised first.
 */

/** Counts of one alignment; `wer` is in percent. */
export interface WerResult {
  readonly substitutions: number;
  readonly deletions: number;
  readonly insertions: number;
  /** Reference words matched exactly. */
  readonly hits: number;
  readonly refWords: number;
  readonly hypWords: number;
  /** 100 · (S + D + I) / refWords; with an empty reference: 0 if the hypothesis is empty too, else 100. */
  readonly wer: number;
}

/** One step of an alignment: `ref`/`hyp` are absent for insertions/deletions respectively. */
export type AlignmentOp =
  | { readonly op: 'hit'; readonly ref: string; readonly hyp: string }
  | { readonly op: 'sub'; readonly ref: string; readonly hyp: string }
  | { readonly op: 'del'; readonly ref: string }
  | { readonly op: 'ins'; readonly hyp: string };

/** Whether the reference's first and last words survive (are hits) in the alignment. */
export interface EdgeWords {
  readonly firstWord: string | undefined;
  readonly lastWord: string | undefined;
  readonly firstWordKept: boolean;
  readonly lastWordKept: boolean;
}

/**
 * Lower-case, hyphens and other punctuation become spaces (apostrophes inside a word are kept, so
 * "don't" stays one word), whitespace collapsed; returns the words.
 */
export function normalizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[‘’]/g, "'")
    .replace(/[^\p{L}\p{N}']+/gu, ' ')
    .split(' ')
    .map((w) => w.replace(/^'+|'+$/g, ''))
    .filter((w) => w !== '');
}

/**
 * Aligns normalised reference and hypothesis words. Among the alignments with the fewest errors it
 * picks one with the most hits (so a word that can be matched is reported as matched); remaining ties
 * go to matching later reference words ("a b a" vs "a" matches the last "a").
 */
export function alignWords(reference: string, hypothesis: string): AlignmentOp[] {
  const ref = normalizeWords(reference);
  const hyp = normalizeWords(hypothesis);
  const cols = hyp.length + 1;
  // cost[i][j] = (errors, -hits) for ref[0..i) vs hyp[0..j), stored flat; compared lexicographically.
  const errors = new Int32Array((ref.length + 1) * cols);
  const hits = new Int32Array((ref.length + 1) * cols);
  for (let i = 0; i <= ref.length; i++) errors[i * cols] = i;
  for (let j = 0; j <= hyp.length; j++) errors[j] = j;
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= hyp.length; j++) {
      const same = ref[i - 1] === hyp[j - 1];
      const diag = (i - 1) * cols + (j - 1);
      let bestErr = errors[diag]! + (same ? 0 : 1);
      let bestHits = hits[diag]! + (same ? 1 : 0);
      for (const from of [(i - 1) * cols + j, i * cols + (j - 1)]) {
        const e = errors[from]! + 1;
        const h = hits[from]!;
        if (e < bestErr || (e === bestErr && h > bestHits)) {
          bestErr = e;
          bestHits = h;
        }
      }
      errors[i * cols + j] = bestErr;
      hits[i * cols + j] = bestHits;
    }
  }
  // Walk back along cells whose cost explains the current one, preferring the diagonal.
  const ops: AlignmentOp[] = [];
  let i = ref.length;
  let j = hyp.length;
  while (i > 0 || j > 0) {
    const here = i * cols + j;
    if (i > 0 && j > 0) {
      const same = ref[i - 1] === hyp[j - 1];
      const diag = (i - 1) * cols + (j - 1);
      if (errors[diag]! + (same ? 0 : 1) === errors[here]! && hits[diag]! + (same ? 1 : 0) === hits[here]!) {
        ops.push(same ? { op: 'hit', ref: ref[i - 1]!, hyp: hyp[j - 1]! } : { op: 'sub', ref: ref[i - 1]!, hyp: hyp[j - 1]! });
        i--;
        j--;
        continue;
      }
    }
    const up = (i - 1) * cols + j;
    if (i > 0 && errors[up]! + 1 === errors[here]! && hits[up]! === hits[here]!) {
      ops.push({ op: 'del', ref: ref[i - 1]! });
      i--;
    } else {
      ops.push({ op: 'ins', hyp: hyp[j - 1]! });
      j--;
    }
  }
  return ops.reverse();
}

/** Substitutions, deletions, insertions and WER (percent) of `hypothesis` against `reference`. */
export function wordErrorRate(reference: string, hypothesis: string): WerResult {
  return summarizeAlignment(alignWords(reference, hypothesis));
}

/** Counts of an alignment from {@link alignWords}. */
export function summarizeAlignment(ops: readonly AlignmentOp[]): WerResult {
  let substitutions = 0;
  let deletions = 0;
  let insertions = 0;
  let hits = 0;
  for (const step of ops) {
    if (step.op === 'sub') substitutions++;
    else if (step.op === 'del') deletions++;
    else if (step.op === 'ins') insertions++;
    else hits++;
  }
  return werOf(substitutions, deletions, insertions, hits);
}

/** Corpus WER: errors and words summed over clips (not the mean of per-clip percentages). */
export function combineWer(results: readonly WerResult[]): WerResult {
  let s = 0;
  let d = 0;
  let ins = 0;
  let h = 0;
  for (const r of results) {
    s += r.substitutions;
    d += r.deletions;
    ins += r.insertions;
    h += r.hits;
  }
  return werOf(s, d, ins, h);
}

/** Whether the first and last reference words are hits in the alignment of `hypothesis` to `reference`. */
export function edgeWords(reference: string, hypothesis: string): EdgeWords {
  const ops = alignWords(reference, hypothesis);
  const refOps = ops.filter((o): o is Exclude<AlignmentOp, { op: 'ins' }> => o.op !== 'ins');
  const first = refOps[0];
  const last = refOps[refOps.length - 1];
  return {
    firstWord: first?.ref,
    lastWord: last?.ref,
    firstWordKept: first?.op === 'hit',
    lastWordKept: last?.op === 'hit',
  };
}

function werOf(substitutions: number, deletions: number, insertions: number, hits: number): WerResult {
  const refWords = hits + substitutions + deletions;
  const hypWords = hits + substitutions + insertions;
  const errors = substitutions + deletions + insertions;
  const wer = refWords === 0 ? (errors === 0 ? 0 : 100) : (100 * errors) / refWords;
  return { substitutions, deletions, insertions, hits, refWords, hypWords, wer };
}
