import type { SegmentMeta } from '../audio/Segment.js';

/** A transcript ready for the text channel. `meta.startedAt` is always the segment's original start time. */
export interface Transcript {
  readonly meta: SegmentMeta;
  readonly text: string;
  /** True when the audio went through the disk spool first (it may arrive after later speech of the same speaker). */
  readonly fromSpool: boolean;
  /**
   * True when the spool drainer hands over the same spool entry's transcript again in this process because the
   * earlier hand-over was not delivered: the line was already written to the session's transcript file then.
   */
  readonly redelivered?: boolean;
}

/**
 * Receives transcripts; called synchronously, must not throw. It may return a promise that settles with the
 * line's fate: it resolves once Discord accepted the line, or the line was dropped on purpose (opted-out speaker,
 * a channel that refuses it for good), and rejects when the line could not be delivered now. The spool drainer
 * deletes an entry only after that promise resolved (at-least-once delivery of spooled speech); the live pipeline
 * does not wait. Returning nothing means "done".
 */
export type TranscriptListener = (transcript: Transcript) => void | Promise<void>;

/** What the hallucination filter gets to look at besides the text. */
export interface HallucinationInfo {
  readonly durationMs: number;
  readonly rmsDbfs: number;
  readonly speechMs: number;
  readonly noSpeechProb?: number;
}

/** Returns true when `text` is a hallucination to drop (e.g. "Thanks for watching!" over silence). */
export type HallucinationCheck = (text: string, info: HallucinationInfo) => boolean;

/** Context of a warning, so the bot can tell the right text channel. */
export interface PipelineWarning {
  /** Stable code: SPOOL_DROPPED, SPOOL_CORRUPT, SPOOL_QUARANTINED, SEGMENT_FAILED, SEGMENT_LOST, SERVICE_FAULT. */
  readonly code: string;
  /** The segment concerned, when known (its textChannelId is where a notice belongs). */
  readonly segment?: SegmentMeta;
  /** Spool file concerned, when any. */
  readonly file?: string;
  readonly error?: unknown;
}

/** Receives operator-visible problems; called synchronously, must not throw. */
export type WarningListener = (message: string, warning: PipelineWarning) => void;
