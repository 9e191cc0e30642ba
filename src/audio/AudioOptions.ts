import { TinyscribeError } from '../util/errors.js';
import { FRAME_BYTES, FRAME_MS } from './Segment.js';

/** Everything the fixed-memory audio path can be tuned with. One object, shared by all audio classes. */
export interface AudioOptions {
  /** Size of the one PCM buffer allocated at start (bytes). 8 MiB ≈ 4.4 min of 16 kHz mono speech. */
  readonly poolBytes: number;
  /** Size of one slab of that buffer (bytes); a segment holds whole slabs. 64 KiB = 2.048 s. */
  readonly slabBytes: number;
  /** `onPressure` fires when free slabs drop below this fraction of all slabs. */
  readonly lowWaterFraction: number;
  /** Holes of up to this many ms (whole 20 ms frames) are filled with Opus packet-loss concealment. */
  readonly maxPlcMs: number;
  /** A pause of at least this long (RTP timeline, or wall time in checkIdle) ends a segment. */
  readonly silenceGapMs: number;
  /** Longer holes below silenceGapMs get this much digital silence at most (≤ 1,000 ms). */
  readonly maxInsertedSilenceMs: number;
  /** Hard cap on one segment's length (≤ 30,000 ms); longer speech is split. */
  readonly maxSegmentMs: number;
  /** A split happens at the quietest 20 ms frame within this many ms before the cap. */
  readonly splitSearchMs: number;
  /** A 20 ms frame at or above this RMS level (dBFS) counts as speech. */
  readonly speechThresholdDbfs: number;
  /** Segments with less speech than this (ms) are not emitted (silence, noise, clicks). */
  readonly minSpeechMs: number;
  /** Drop the silence frames (F8 FF FE) a client sends at the end of a talk spurt from a segment's end. */
  readonly trimTrailingSilence: boolean;
  /** Without RTP timestamps, arrival-time lateness up to this is treated as network jitter, not loss. */
  readonly arrivalJitterMs: number;
  /**
   * Reorder (jitter) buffer on the RTP path: a packet that arrives ahead of a missing one waits up to this long
   * for it, and at most ceil(reorderHoldMs / 20) packets wait at once. Packets in order never wait. 0 turns it off
   * (an overtaken packet's slot is then concealed and the packet dropped as late).
   */
  readonly reorderHoldMs: number;
  /** Upper bound on Opus decoders ever created (they are pooled and never freed). */
  readonly maxDecoders: number;
  /**
   * A speaker gives its decoder back once its segment has been sealed on silence and this long has passed without
   * packets (0: at that seal). A max-length split keeps it: the speech goes on.
   */
  readonly decoderIdleMs: number;
  /** PLC calls used to flush a reused decoder's state when it has no reset control. */
  readonly decoderResetPlcCalls: number;
}

/** Defaults, declared once; every audio class merges its partial options over these. */
export const DEFAULT_AUDIO_OPTIONS = {
  poolBytes: 8 * 1024 * 1024,
  slabBytes: 64 * 1024,
  lowWaterFraction: 0.1,
  maxPlcMs: 200,
  silenceGapMs: 1_000,
  maxInsertedSilenceMs: 500,
  maxSegmentMs: 30_000,
  splitSearchMs: 1_000,
  speechThresholdDbfs: -45,
  minSpeechMs: 100,
  trimTrailingSilence: true,
  arrivalJitterMs: 60,
  // 60 ms: UDP jitter of a few tens of ms reorders neighbours; three frames cover it at the cost of ≤ 60 ms delay
  // only after a real loss (the segment is not uploaded before silenceGapMs anyway).
  reorderHoldMs: 60,
  // Discord's voice channel user limit tops out at 99, so everyone in a full channel can talk at once. Created lazily
  // and kept (pooled, never freed): one @discordjs/opus 16 kHz mono decoder measured 44 KB of anonymous RSS on Node 22
  // (100 and 300 created after a warm-up, /proc/self/status RssAnon), so 99 cost ≈ 4.4 MB and only at such a peak.
  maxDecoders: 99,
  // Given back as soon as the speaker's segment is sealed on silence (≥ silenceGapMs quiet): with a long hold
  // (it was 10 s) the pool counted everyone heard in the last 10 s, and the 33rd speaker in that window lost all
  // their audio. Release resets the decoder (OPUS_RESET_STATE), so the next utterance, whoever speaks it, starts
  // clean; an utterance after ≥ 1 s of quiet needs no history from the last one.
  decoderIdleMs: 0,
  decoderResetPlcCalls: 3,
} as const satisfies AudioOptions;

/** Hard limits that callers may not configure past (upload size and Whisper's 30 s window). */
const MAX_SEGMENT_MS_LIMIT = 30_000;
const MAX_INSERTED_SILENCE_LIMIT = 1_000;

/**
 * Merges `partial` over the defaults and checks every value once, so the hot path can trust them.
 * Throws TinyscribeError `AUDIO_BAD_OPTIONS` listing every bad key.
 */
export function resolveAudioOptions(partial: Partial<AudioOptions> = {}): AudioOptions {
  const o: AudioOptions = { ...DEFAULT_AUDIO_OPTIONS, ...stripUndefined(partial) };
  const bad: string[] = [];
  const check = (ok: boolean, message: string): void => {
    if (!ok) bad.push(message);
  };
  const isInt = Number.isInteger;
  check(isInt(o.slabBytes) && o.slabBytes >= FRAME_BYTES && o.slabBytes % 2 === 0, `slabBytes must be an even integer ≥ ${FRAME_BYTES}`);
  check(isInt(o.poolBytes) && o.poolBytes >= o.slabBytes, 'poolBytes must be an integer ≥ slabBytes');
  check(o.lowWaterFraction >= 0 && o.lowWaterFraction < 1, 'lowWaterFraction must be in [0, 1)');
  check(isInt(o.maxPlcMs) && o.maxPlcMs >= 0, 'maxPlcMs must be an integer ≥ 0');
  check(isInt(o.silenceGapMs) && o.silenceGapMs > o.maxPlcMs, 'silenceGapMs must be an integer > maxPlcMs');
  check(
    isInt(o.maxInsertedSilenceMs) && o.maxInsertedSilenceMs >= 0 && o.maxInsertedSilenceMs <= MAX_INSERTED_SILENCE_LIMIT,
    `maxInsertedSilenceMs must be in [0, ${MAX_INSERTED_SILENCE_LIMIT}]`,
  );
  check(
    isInt(o.maxSegmentMs) && o.maxSegmentMs % FRAME_MS === 0 && o.maxSegmentMs <= MAX_SEGMENT_MS_LIMIT,
    `maxSegmentMs must be a multiple of ${FRAME_MS} and ≤ ${MAX_SEGMENT_MS_LIMIT}`,
  );
  check(
    isInt(o.splitSearchMs) && o.splitSearchMs >= FRAME_MS && o.splitSearchMs < o.maxSegmentMs,
    `splitSearchMs must be an integer in [${FRAME_MS}, maxSegmentMs)`,
  );
  check(Number.isFinite(o.speechThresholdDbfs) && o.speechThresholdDbfs < 0, 'speechThresholdDbfs must be a negative number');
  check(o.minSpeechMs >= 0, 'minSpeechMs must be ≥ 0');
  check(o.arrivalJitterMs >= 0, 'arrivalJitterMs must be ≥ 0');
  check(isInt(o.reorderHoldMs) && o.reorderHoldMs >= 0 && o.reorderHoldMs < o.silenceGapMs, 'reorderHoldMs must be an integer in [0, silenceGapMs)');
  check(isInt(o.maxDecoders) && o.maxDecoders >= 1, 'maxDecoders must be an integer ≥ 1');
  check(o.decoderIdleMs >= 0, 'decoderIdleMs must be ≥ 0');
  check(isInt(o.decoderResetPlcCalls) && o.decoderResetPlcCalls >= 0, 'decoderResetPlcCalls must be an integer ≥ 0');
  if (bad.length > 0) throw new TinyscribeError('AUDIO_BAD_OPTIONS', `Invalid audio options: ${bad.join('; ')}`);
  return Object.freeze(o);
}

/** `{ a: undefined }` must not override a default. */
function stripUndefined(partial: Partial<AudioOptions>): Partial<AudioOptions> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(partial)) if (value !== undefined) out[key] = value;
  return out as Partial<AudioOptions>;
}
