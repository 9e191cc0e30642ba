import type { Metrics } from '../util/Metrics.js';

/** Names of the audio path's metrics (Prometheus style), so the hot path passes constants, not strings built per call. */
export const AUDIO_METRIC = {
  corruptPackets: 'audio_corrupt_packets',
  decryptFailures: 'audio_decrypt_failures',
  latePackets: 'audio_late_packets',
  reorderedPackets: 'audio_reordered_packets',
  droppedMs: 'audio_dropped_ms',
  concealedMs: 'audio_concealed_ms',
  insertedSilenceMs: 'audio_inserted_silence_ms',
  slabAllocFailures: 'audio_slab_alloc_failures',
  decoderUnavailable: 'audio_decoder_unavailable',
  segmentsEmitted: 'segments_emitted',
  segmentsSplit: 'segments_split',
  segmentsDiscardedSilence: 'segments_discarded_silence',
  segmentCallbackErrors: 'segments_callback_errors',
} as const;

const HELP: Record<(typeof AUDIO_METRIC)[keyof typeof AUDIO_METRIC], string> = {
  audio_corrupt_packets: 'Opus packets the decoder rejected (concealed with PLC)',
  audio_decrypt_failures: 'Packets the voice session reported lost to decryption failures',
  audio_late_packets: 'Packets that arrived after their slot was already concealed, or duplicates (dropped)',
  audio_reordered_packets: 'Packets that arrived after a later one and were still put in sequence order by the reorder buffer',
  audio_dropped_ms: 'Milliseconds of audio dropped because the PCM pool or the decoder pool was exhausted',
  audio_concealed_ms: 'Milliseconds filled with Opus packet-loss concealment',
  audio_inserted_silence_ms: 'Milliseconds of digital silence inserted for longer holes',
  audio_slab_alloc_failures: 'PCM slab allocations that found the pool empty',
  audio_decoder_unavailable: 'Packets that found no free Opus decoder (pool at maxDecoders)',
  segments_emitted: 'Segments sealed and handed on',
  segments_split: 'Segments split because they reached maxSegmentMs',
  segments_discarded_silence: 'Segments dropped for having less than minSpeechMs of speech energy',
  segments_callback_errors: 'Errors thrown by the onSegment callback',
};

/** Registers the audio metrics with their help texts (call once at start; idempotent). */
export function defineAudioMetrics(metrics: Metrics): void {
  for (const name of Object.values(AUDIO_METRIC)) {
    metrics.define(name, 'counter', HELP[name]);
  }
}
