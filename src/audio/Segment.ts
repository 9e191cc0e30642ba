/** PCM format of everything inside tinyscribe after decoding: 16 kHz, mono, signed 16-bit little-endian. */
export const SAMPLE_RATE = 16_000;
export const BYTES_PER_SAMPLE = 2;
export const BYTES_PER_MS = (SAMPLE_RATE * BYTES_PER_SAMPLE) / 1000; // 32
/** One Discord Opus frame is 20 ms: 320 samples, 640 bytes at 16 kHz mono. */
export const FRAME_MS = 20;
export const FRAME_BYTES = FRAME_MS * BYTES_PER_MS; // 640

/** Bytes of PCM, readable in order, without copying it into one buffer. */
export interface AudioSource {
  readonly byteLength: number;
  /** Yields the PCM in order. May be called again for each upload attempt. */
  chunks(): Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

/** Who and when a segment belongs to; also what the spool stores next to the audio. */
export interface SegmentMeta {
  readonly guildId: string;
  /** Voice channel the speech was heard in. */
  readonly voiceChannelId: string;
  /** Text channel the transcript goes to. */
  readonly textChannelId: string;
  readonly userId: string;
  /** Session the segment belongs to (for transcript files). */
  readonly sessionId: string;
  /** Epoch ms of the segment's first sample on the audio's own timeline. */
  readonly startedAt: number;
  readonly durationMs: number;
  /** Loudness (dBFS RMS) of the loudest 20 ms frames, for the hallucination filter. */
  readonly rmsDbfs: number;
  /** Milliseconds of frames above the speech-energy threshold. */
  readonly speechMs: number;
  readonly language?: string;
  readonly prompt?: string;
}

/**
 * A sealed stretch of one speaker's speech. In memory its PCM lives in slabs of the shared pool
 * (see PcmSlabPool); from the spool it lives in a file. Either way it is an AudioSource.
 */
export interface Segment extends AudioSource {
  readonly id: number;
  readonly meta: SegmentMeta;
  /** Gives the storage back (slabs to the pool, or nothing for spool files). Idempotent. */
  release(): void;
}
