import type { AudioSource } from '../audio/Segment.js';

/** One transcription call: a WAV made from `audio` plus the API's optional fields. */
export interface TranscriptionRequest {
  readonly audio: AudioSource;
  readonly language?: string;
  readonly prompt?: string;
  readonly signal?: AbortSignal;
}

/** What the API said. `noSpeechProb` is the highest no_speech_prob of verbose_json segments, if given. */
export interface TranscriptionResult {
  readonly text: string;
  readonly noSpeechProb?: number;
}

/** Anything that turns audio into text (the undici client in production). */
export interface Transcriber {
  transcribe(request: TranscriptionRequest): Promise<TranscriptionResult>;
}
