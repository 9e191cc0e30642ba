/**
 * DTMF ("touch-tone") as a stand-in for speech in tests: the bot's audio path must deliver digits the
 * Whisper stand-in can read back exactly, even after Opus coding, 48k→16k decoding and lost frames.
 */
import { TinyscribeError } from '../../../src/util/errors.js';
import { concatPcm, silencePcm, toneBurst } from './signals.js';

/** Row (low-group) frequencies, Hz. */
export const DTMF_ROWS = [697, 770, 852, 941] as const;
/** Column (high-group) frequencies, Hz. */
export const DTMF_COLS = [1209, 1336, 1477, 1633] as const;
/** Keypad layout: KEYS[row][col]. */
const KEYS = ['123A', '456B', '789C', '*0#D'] as const;

/** The (row, column) frequency pair of a DTMF symbol, or undefined if `digit` is not one of 0-9 * # A-D. */
export function dtmfFrequencies(digit: string): readonly [number, number] | undefined {
  const d = digit.toUpperCase();
  for (let r = 0; r < KEYS.length; r++) {
    const c = KEYS[r]!.indexOf(d);
    if (c >= 0 && d.length === 1) return [DTMF_ROWS[r]!, DTMF_COLS[c]!];
  }
  return undefined;
}

/** Options for {@link dtmfPcm}. */
export interface DtmfOptions {
  /** Default 48000 (Discord's rate). */
  sampleRate?: number;
  /** Default 2 (Discord sends stereo Opus). */
  channels?: 1 | 2;
  /** Length of each tone, ms. Default 100. */
  toneMs?: number;
  /** Silence between consecutive tones, ms. Default 60. */
  gapMs?: number;
  /** Peak of the summed pair as a fraction of full scale, 0..1. Default 0.3. */
  amplitude?: number;
  /** Silence before the first tone, ms. Default 0. */
  leadMs?: number;
  /** Silence after the last tone, ms. Default 0. */
  trailMs?: number;
}

/** Interleaved s16 PCM that plays `digits` (0-9, *, #, A-D) as DTMF tones separated by gaps. */
export function dtmfPcm(digits: string, opts: DtmfOptions = {}): Int16Array {
  const sampleRate = opts.sampleRate ?? 48_000;
  const channels = opts.channels ?? 2;
  const toneMs = opts.toneMs ?? 100;
  const gapMs = opts.gapMs ?? 60;
  const amplitude = opts.amplitude ?? 0.3;
  if (!(amplitude >= 0 && amplitude <= 1)) {
    throw new TinyscribeError('SIM_DTMF_BAD_OPTION', `amplitude must be within 0..1, got ${amplitude}`);
  }
  const parts: Int16Array[] = [silencePcm(opts.leadMs ?? 0, sampleRate, channels)];
  [...digits].forEach((digit, i) => {
    const pair = dtmfFrequencies(digit);
    if (!pair) throw new TinyscribeError('SIM_DTMF_BAD_DIGIT', `not a DTMF symbol: ${JSON.stringify(digit)}`);
    if (i > 0) parts.push(silencePcm(gapMs, sampleRate, channels));
    parts.push(toneBurst(pair, toneMs, { sampleRate, channels, amplitude }));
  });
  parts.push(silencePcm(opts.trailMs ?? 0, sampleRate, channels));
  return concatPcm(...parts);
}

/**
 * Detector tuning. Blocks are 20 ms (50 Hz resolution: enough to separate 697/770 Hz, the closest pair,
 * by ~13 dB) and hop by 10 ms. A digit needs 3 consecutive valid blocks (a ≥ ~40 ms tone, the DTMF
 * minimum); 2 invalid blocks (a ≥ ~30 ms break) re-arm it, so a lone lost 20 ms frame inside a tone,
 * which blanks at most one block, does not split one digit into two, while a 40 ms gap does.
 */
const BLOCK_MS = 20;
const HOP_MS = 10;
const MIN_DIGIT_BLOCKS = 3;
const REARM_BLOCKS = 2;
/** Blocks quieter than this are not tones (−60 dBFS noise and silence fall far below). */
const MIN_BLOCK_DBFS = -45;
/** The two tones must carry at least this fraction of the block's energy (rejects noise and speech). */
const MIN_TONE_FRACTION = 0.4;
/** Each tone must beat the runner-up of its group by this much (rejects chords and transitions). */
const MIN_PEAK_MARGIN_DB = 6;
/** Allowed level difference between the row and column tone (standard twist limits are 4–8 dB). */
const MAX_TWIST_DB = 10;

/**
 * Reads DTMF digits from mono s16 PCM at any `sampleRate` with the Goertzel algorithm; returns "" for
 * silence or noise. Repeated digits are reported once per tone, so they must be separated by a gap.
 */
export function decodeDtmf(pcm: Int16Array, sampleRate: number): string {
  const blockLen = Math.round((BLOCK_MS * sampleRate) / 1000);
  const hop = Math.round((HOP_MS * sampleRate) / 1000);
  const freqs = [...DTMF_ROWS, ...DTMF_COLS];
  const coeffs = freqs.map((f) => 2 * Math.cos((2 * Math.PI * f) / sampleRate));
  const power = new Float64Array(freqs.length);
  const minMeanSquare = (32768 * 10 ** (MIN_BLOCK_DBFS / 20)) ** 2;
  const minMargin = 10 ** (MIN_PEAK_MARGIN_DB / 10);
  const maxTwist = 10 ** (MAX_TWIST_DB / 10);

  let out = '';
  let candidate: string | null = null;
  let candidateRun = 0;
  let invalidRun = 0;
  let reported: string | null = null;

  for (let start = 0; start + blockLen <= pcm.length; start += hop) {
    const label = classifyBlock(pcm, start, blockLen, coeffs, power, minMeanSquare, minMargin, maxTwist);
    if (label === null) {
      invalidRun++;
      if (invalidRun >= REARM_BLOCKS) {
        reported = null;
        candidate = null;
        candidateRun = 0;
      }
      continue;
    }
    invalidRun = 0;
    if (label === candidate) candidateRun++;
    else {
      candidate = label;
      candidateRun = 1;
    }
    if (candidateRun >= MIN_DIGIT_BLOCKS && candidate !== reported) {
      out += candidate;
      reported = candidate;
    }
  }
  return out;
}

/** The DTMF symbol in one block, or null. Per-block code: allocates nothing (Goertzel powers go into the reused `power`). */
function classifyBlock(
  pcm: Int16Array,
  start: number,
  len: number,
  coeffs: readonly number[],
  power: Float64Array,
  minMeanSquare: number,
  minMargin: number,
  maxTwist: number,
): string | null {
  let energy = 0;
  for (let i = start; i < start + len; i++) energy += pcm[i]! * pcm[i]!;
  if (energy / len < minMeanSquare) return null;

  for (let k = 0; k < coeffs.length; k++) {
    const coeff = coeffs[k]!;
    let s1 = 0;
    let s2 = 0;
    for (let i = start; i < start + len; i++) {
      const s0 = pcm[i]! + coeff * s1 - s2;
      s2 = s1;
      s1 = s0;
    }
    // |X(f)|² scaled so a sine of amplitude A gives its mean power A²/2, comparable to energy/len.
    power[k] = ((s1 * s1 + s2 * s2 - coeff * s1 * s2) * 2) / (len * len);
  }

  const row = strongest(power, 0, 4, minMargin);
  const col = strongest(power, 4, 8, minMargin);
  if (row < 0 || col < 0) return null;
  const pr = power[row]!;
  const pc = power[col]!;
  if (pr > pc * maxTwist || pc > pr * maxTwist) return null;
  if (pr + pc < MIN_TONE_FRACTION * (energy / len)) return null;
  return KEYS[row]![col - 4]!;
}

/** Index of the clear winner in power[from..to), or −1 if the runner-up is within `minMargin`. */
function strongest(power: Float64Array, from: number, to: number, minMargin: number): number {
  let best = -1;
  let bestP = -1;
  let second = 0;
  for (let k = from; k < to; k++) {
    const p = power[k]!;
    if (p > bestP) {
      second = Math.max(second, bestP);
      bestP = p;
      best = k;
    } else if (p > second) second = p;
  }
  return bestP >= second * minMargin ? best : -1;
}
