import type { TranscribeFn } from '../whisper/types.js';

/** One upload as the transcription backend saw it. */
export interface RecordedUpload {
  /** 16 kHz mono s16, as the stand-in handed it to the backend. */
  readonly pcm: Int16Array;
  /** What the backend answered. */
  readonly text: string;
  /** Order of arrival at the backend (0, 1, …). */
  readonly index: number;
}

/**
 * Wraps a transcription backend for the Whisper stand-in and keeps the audio of every upload it
 * transcribed, so a fidelity measurement can compare what tinyscribe sent with what the speaker said.
 * `WhisperStandIn.start({ transcriber: recorder.transcriber })`.
 */
export class UploadRecorder {
  readonly uploads: RecordedUpload[] = [];
  /** Requests being transcribed right now. */
  inFlight = 0;
  readonly transcriber: TranscribeFn;
  private started = 0;

  constructor(inner: TranscribeFn) {
    this.transcriber = async (pcm, sampleRate, fields) => {
      const index = this.started++;
      this.inFlight++;
      try {
        const output = await inner(pcm, sampleRate, fields);
        this.uploads.push({ pcm, text: output.text, index });
        return output;
      } finally {
        this.inFlight--;
      }
    };
  }

  /** Forgets the recorded uploads (between measured runs on one stand-in). */
  clear(): void {
    this.uploads.length = 0;
  }
}
