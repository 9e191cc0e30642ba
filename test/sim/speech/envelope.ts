/**
 * Energy envelopes of 16 kHz mono speech, and locating a piece of uploaded audio in the audio a
 * simulated speaker played. Used to measure what the pipeline cut off (onset loss) and how much audio
 * it uploaded, independently of the bot's own logs.
 */

/** Samples per envelope frame at 16 kHz: 10 ms. Fine enough for a pipeline that works in 20 ms frames. */
export const ENVELOPE_FRAME_SAMPLES = 160;
export const ENVELOPE_FRAME_MS = 10;
/** Energy given to digital silence and anything quieter, dBFS (keeps the logarithm finite). */
export const ENVELOPE_FLOOR_DBFS = -70;
/**
 * A 10 ms frame of the original recording at or above this level counts as speech. The LibriVox clips'
 * background (MP3-sourced room noise) sits at −40…−55 dBFS and their speech at −15…−30 dBFS, so −35
 * separates the two; the bot's own −45 dBFS threshold would call much of that background speech.
 */
export const SPEECH_THRESHOLD_DBFS = -35;

/** Per-frame RMS level in dBFS (floored at {@link ENVELOPE_FLOOR_DBFS}); a trailing partial frame counts. */
export function energyEnvelope(pcm: Int16Array, frameSamples = ENVELOPE_FRAME_SAMPLES): Float64Array {
  const frames = Math.ceil(pcm.length / frameSamples);
  const env = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    const start = f * frameSamples;
    const end = Math.min(pcm.length, start + frameSamples);
    let sum = 0;
    for (let i = start; i < end; i++) sum += pcm[i]! * pcm[i]!;
    const meanSquare = sum / (frameSamples * 32768 * 32768);
    env[f] = meanSquare > 0 ? Math.max(ENVELOPE_FLOOR_DBFS, 10 * Math.log10(meanSquare)) : ENVELOPE_FLOOR_DBFS;
  }
  return env;
}

/** Frames at or above `thresholdDbfs`. */
export function speechMask(env: Float64Array, thresholdDbfs = SPEECH_THRESHOLD_DBFS): Uint8Array {
  const mask = new Uint8Array(env.length);
  for (let i = 0; i < env.length; i++) mask[i] = env[i]! >= thresholdDbfs ? 1 : 0;
  return mask;
}

/** First and last speech frame (inclusive), or undefined when there is none. */
export function speechSpan(mask: Uint8Array): { first: number; last: number } | undefined {
  const first = mask.indexOf(1);
  if (first < 0) return undefined;
  return { first, last: mask.lastIndexOf(1) };
}

/** Where a needle envelope fits best in a haystack envelope. */
export interface EnvelopeMatch {
  /** Haystack frame where the needle's frame 0 lands. */
  readonly lag: number;
  /** Pearson correlation of the needle with the haystack window at that lag (−1…1). */
  readonly score: number;
}

/**
 * Finds the lag maximising the Pearson correlation of `needle` against an equally long window of
 * `haystack` (lags 0…haystack.length − needle.length). Needles shorter than the haystack only; a flat
 * needle or window scores 0. Brute force: an envelope is ~100 frames per second, so a 40 s track and a
 * 1.5 s needle cost 600k multiply-adds.
 */
export function locateEnvelope(needle: Float64Array, haystack: Float64Array): EnvelopeMatch | undefined {
  const n = needle.length;
  if (n === 0 || n > haystack.length) return undefined;
  let needleMean = 0;
  for (let i = 0; i < n; i++) needleMean += needle[i]!;
  needleMean /= n;
  let needleVar = 0;
  for (let i = 0; i < n; i++) needleVar += (needle[i]! - needleMean) ** 2;
  if (needleVar === 0) return undefined;
  // Running window sums make each lag O(n) only for the cross term.
  let winSum = 0;
  let winSq = 0;
  for (let i = 0; i < n; i++) {
    winSum += haystack[i]!;
    winSq += haystack[i]! ** 2;
  }
  let best: EnvelopeMatch | undefined;
  for (let lag = 0; lag + n <= haystack.length; lag++) {
    if (lag > 0) {
      const out = haystack[lag - 1]!;
      const inn = haystack[lag + n - 1]!;
      winSum += inn - out;
      winSq += inn * inn - out * out;
    }
    const winMean = winSum / n;
    const winVar = winSq - n * winMean * winMean;
    let score = 0;
    if (winVar > 1e-9) {
      let cross = 0;
      for (let i = 0; i < n; i++) cross += (needle[i]! - needleMean) * haystack[lag + i]!;
      score = cross / Math.sqrt(needleVar * winVar);
    }
    if (best === undefined || score > best.score) best = { lag, score };
  }
  return best;
}
