import { HALLUCINATION_PHRASES, type HallucinationPhraseGroup } from './hallucinations.js';

/** What is known about the audio a transcript came from (see SegmentMeta and TranscriptionResult). */
export interface SegmentEvidence {
  readonly durationMs: number;
  /** Loudness (dBFS RMS) of the loudest frames. */
  readonly rmsDbfs: number;
  /** Milliseconds of frames above the speech-energy threshold. */
  readonly speechMs: number;
  /** Highest verbose_json no_speech_prob, when the server gave one. */
  readonly noSpeechProb?: number;
}

/** Tunables of {@link HallucinationFilter}; every field has a default. */
export interface HallucinationFilterOptions {
  /** Phrase list; defaults to {@link HALLUCINATION_PHRASES}. */
  readonly phrases?: readonly HallucinationPhraseGroup[];
  /** A known phrase is dropped when the segment has less speech than this. Default 1500 ms. */
  readonly minSpeechMs?: number;
  /** …or when its loudness is below this. Default −35 dBFS. */
  readonly quietDbfs?: number;
  /** …or when the server's no_speech_prob is above this (Whisper's own default threshold). Default 0.6. */
  readonly noSpeechProbThreshold?: number;
}

/** Why a transcript was dropped: nothing in it, only [sound] annotations, or a known phrase on weak audio. */
export type HallucinationReason = 'empty' | 'annotation' | 'phrase';

// Longer outputs are not outros; also bounds the matcher's work.
const MAX_MATCH_CHARS = 400;

// Output made only of bracketed sound annotations: "[BLANK_AUDIO]" (whisper.cpp), "[Music]", "(applause)", "【音楽】".
const ANNOTATIONS_ONLY = /^\s*(?:[[(【][^[\]()【】]*[\])】]\s*)+$/u;

/**
 * Folds what Whisper varies between runs (case, accents, full/half width, punctuation, spacing) so that
 * "THANK YOU!!", "Thank you." and "ｔｈａｎｋ ｙｏｕ" compare equal. Spacing is removed entirely because CJK
 * outputs come with or without spaces.
 */
export function normalizeForMatch(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[\p{P}\p{S}\p{Z}\s]/gu, '');
}

/**
 * Decides whether a transcript is one of Whisper's silence/noise inventions. A known phrase is dropped only when
 * the WHOLE output is made of known phrases (e.g. repeated) and the audio is weak evidence of speech.
 */
export class HallucinationFilter {
  private readonly phrases: readonly string[];
  private readonly minSpeechMs: number;
  private readonly quietDbfs: number;
  private readonly noSpeechProbThreshold: number;

  constructor(options: HallucinationFilterOptions = {}) {
    const normalized = new Set<string>();
    for (const group of options.phrases ?? HALLUCINATION_PHRASES) {
      for (const phrase of group.phrases) {
        const n = normalizeForMatch(phrase);
        if (n.length > 0) normalized.add(n);
      }
    }
    this.phrases = [...normalized];
    this.minSpeechMs = options.minSpeechMs ?? 1500;
    this.quietDbfs = options.quietDbfs ?? -35;
    this.noSpeechProbThreshold = options.noSpeechProbThreshold ?? 0.6;
  }

  /** True when `text` should be dropped instead of posted. */
  isHallucination(text: string, evidence: SegmentEvidence): boolean {
    return this.reason(text, evidence) !== null;
  }

  /** Why `text` should be dropped, or null to keep it (for logs and metrics). */
  reason(text: string, evidence: SegmentEvidence): HallucinationReason | null {
    const normalized = normalizeForMatch(text);
    if (normalized.length === 0) return 'empty';
    if (ANNOTATIONS_ONLY.test(text.normalize('NFKC'))) return 'annotation';
    if (!this.isKnownPhraseSequence(normalized)) return null;
    return this.isWeakEvidence(evidence) ? 'phrase' : null;
  }

  private isWeakEvidence(evidence: SegmentEvidence): boolean {
    const speechMs = Math.min(evidence.speechMs, evidence.durationMs);
    if (speechMs < this.minSpeechMs) return true;
    if (evidence.rmsDbfs < this.quietDbfs) return true;
    // NaN (some backends) compares false, i.e. "no evidence of silence".
    return evidence.noSpeechProb !== undefined && evidence.noSpeechProb > this.noSpeechProbThreshold;
  }

  /** Whether `normalized` is a concatenation of one or more known phrases ("thank you thank you", "you you"). */
  private isKnownPhraseSequence(normalized: string): boolean {
    if (normalized.length > MAX_MATCH_CHARS) return false;
    const reachable = new Uint8Array(normalized.length + 1);
    reachable[0] = 1;
    for (let i = 0; i < normalized.length; i++) {
      if (reachable[i] !== 1) continue;
      for (const phrase of this.phrases) {
        if (normalized.startsWith(phrase, i)) reachable[i + phrase.length] = 1;
      }
    }
    return reachable[normalized.length] === 1;
  }
}
